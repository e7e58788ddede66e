// Package e2e holds the browser user stories: headless Chromium, driven by
// chromedp, uses the application as people do — following links, typing
// into labelled fields, pressing buttons — and checks what they would see.
//
// By default the tests start the whole application in-process (local/stack:
// embedded database with 45 demo suppliers, both services, the gateway with
// the load balancer's rules) and sign in with the stack's demo account; the
// employee service's clock is theirs to move, so a session's expiry is seen
// without waiting. With E2E_BASE_URL set they drive that address instead,
// for example HAProxy in front of the docker-compose stack, sign in with
// E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD (required then), and skip the
// checks that read the database directly and the expiry story.
//
// Every story runs in a browser context of its own, so one story signing
// out, or being refused after wrong passwords, never touches another. All
// of them come from one address, though: the failed sign-ins of a run stay
// well below the service's per-address refusal (checked), but against a
// long-lived stack a few runs in quick succession add up (see
// accounts_test.go).
//
// Chromium comes from the CHROMIUM variable, `chromium` on PATH or
// /usr/bin/chromium; it is never downloaded. Without it the tests skip with a
// loud message, except under CI, where they fail.
//
//	go test ./e2e/... -count=1 -race -v
package e2e
