// Package e2e holds the browser user stories: headless Chromium, driven by
// chromedp, uses the application as people do — following links, typing
// into labelled fields, pressing buttons — and checks what they would see.
//
// By default the tests start the whole application in-process (local/stack:
// embedded database with 45 demo suppliers, both services, the gateway with
// the load balancer's rules). With E2E_BASE_URL set they drive that address
// instead, for example HAProxy in front of the docker-compose stack, and skip
// the checks that read the database directly.
//
// Chromium comes from the CHROMIUM variable, `chromium` on PATH or
// /usr/bin/chromium; it is never downloaded. Without it the tests skip with a
// loud message, except under CI, where they fail.
//
//	go test ./e2e/... -count=1 -race -v
package e2e
