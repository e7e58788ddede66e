package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// faviconSize is the icon's width and height in pixels: what browsers show
// in a tab, and what they scale down for 16-pixel places.
const faviconSize = 32

// favicon draws the site's icon, a coffee bean in the header's brown, and
// wraps it as an ICO file holding one PNG (as every browser since 2007
// reads). It is drawn in code so no binary file needs reviewing.
func favicon() ([]byte, error) {
	img := image.NewNRGBA(image.Rect(0, 0, faviconSize, faviconSize))
	bean := color.NRGBA{0x5b, 0x3a, 0x1e, 0xff}   // --brand in style.css
	crease := color.NRGBA{0xf1, 0xeb, 0xe4, 0xff} // the table heading's paper
	const c = (faviconSize - 1) / 2.0
	for y := range faviconSize {
		for x := range faviconSize {
			// An ellipse tilted by 45°, with an S-shaped crease down its
			// long axis.
			dx, dy := float64(x)-c, float64(y)-c
			u, v := (dx+dy)/math.Sqrt2, (dx-dy)/math.Sqrt2
			if (u*u)/(15*15)+(v*v)/(10.5*10.5) > 1 {
				continue
			}
			if math.Abs(v-2.2*math.Sin(u/15*math.Pi)) < 1.3 && math.Abs(u) < 12 {
				img.SetNRGBA(x, y, crease)
				continue
			}
			img.SetNRGBA(x, y, bean)
		}
	}
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		return nil, fmt.Errorf("favicon: encode png: %w", err)
	}
	// ICONDIR (6 bytes) and one ICONDIRENTRY (16 bytes), then the PNG.
	var ico bytes.Buffer
	header := []any{
		uint16(0), uint16(1), uint16(1), // reserved, type icon, one image
		uint8(faviconSize), uint8(faviconSize), uint8(0), uint8(0), // size, no palette, reserved
		uint16(1), uint16(32), // colour planes, bits per pixel
		uint32(pngData.Len()), uint32(6 + 16), // image size, its offset
	}
	for _, field := range header {
		if err := binary.Write(&ico, binary.LittleEndian, field); err != nil {
			return nil, fmt.Errorf("favicon: %w", err)
		}
	}
	ico.Write(pngData.Bytes())
	return ico.Bytes(), nil
}
