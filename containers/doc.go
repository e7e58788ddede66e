// Package containers checks the built images from the outside, as Docker
// and a cluster see them: the three images of `make images` (size, non-root
// user, health check, labels, no secret in the config, the history or the
// files; each service running with a read-only root filesystem, no
// capabilities and no-new-privileges, answering /healthz, and stopping
// cleanly on SIGTERM), `make push` into a local registry (ECR's stand-in),
// and the stand-in images of stand-ins/ that CI uses where no registry can
// be reached (MariaDB's and HAProxy's official interfaces).
//
// TestComposeStack brings up the local stack of docker-compose.yml on the
// stand-ins under a project name of its own (the database, the migration,
// two replicas of each service, HAProxy) and, in turn: walks the user
// stories through HAProxy's production and test listeners, runs e2e's
// browser stories through each, kills a replica of each service and then
// restarts every replica under steady load (no request may fail), and takes
// the database away and back (friendly 503s, /readyz failing, recovery
// without restarts, no lost write). It takes the stack down with its volume.
// It also checks HAProxy accepts loadbalancer/haproxy.cfg.
//
// The tests drive the docker command line. Without a reachable Docker engine,
// or without the images, they skip with a loud message naming what to
// install or build, except under CI, where they fail.
//
//	make images && go test ./containers/... -count=1 -v
//
// IMAGE_REPO and IMAGE_TAG (default coffee-suppliers, dev) name the images,
// as in the Makefile.
package containers
