// Package server is the employee service's HTTP side: the administration
// pages that list, add, edit and delete suppliers, all under /admin, behind
// sign-in. It is a package of its own, not internal, so the local launcher
// can run it in-process.
package server

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/coffee-suppliers/coffee-suppliers/pkg/suppliers"
	"github.com/coffee-suppliers/coffee-suppliers/pkg/web"
	"github.com/coffee-suppliers/coffee-suppliers/services/employee/auth"
)

//go:embed templates/*.html
var templateFiles embed.FS

// The lab's URL scheme: the load balancer sends /admin and /admin/* here,
// and its instructions and health checks name these paths.
const (
	adminPath  = "/admin"
	listPath   = "/admin/suppliers"
	addPath    = "/admin/supplier-add"
	updatePath = "/admin/supplier-update/" // followed by the supplier's id
	removePath = "/admin/supplier-remove/" // followed by the supplier's id
	loginPath  = "/admin/login"
	logoutPath = "/admin/logout"
)

// site is how the administration presents itself in the shared layout.
var site = web.Site{
	Service: "employee",
	Section: "Administration",
	Home:    listPath,
	// A visitor on the sign-in page could not open the list.
	VisitorHome: "/",
	BasePath:    adminPath,
	Nav: []web.Link{
		{Label: "Suppliers", URL: listPath, SignedIn: true},
		{Label: "Add supplier", URL: addPath, SignedIn: true},
		{Label: "Customer site", URL: "/"},
	},
	// Administration pages must not linger in shared or browser caches.
	CacheControl: "no-store",
}

// handlers carries what the routes need; there are no package globals.
type handlers struct {
	app        *web.App
	store      *suppliers.Store
	sessions   *auth.Manager
	log        *slog.Logger
	sleep      func(ctx context.Context, d time.Duration) error
	firstAdmin *firstAdmin
	// sessionChecks says, from this replica's short cache, whether a
	// signed-in session was ended since it began.
	sessionChecks *auth.SessionChecks
	// hashSlots bounds the password checks running at once; verify is the
	// check itself.
	hashSlots *auth.HashSlots
	verify    func(hash, password string) (bool, error)
}

// Deps are what the administration is built from.
type Deps struct {
	Log *slog.Logger
	Web web.Config
	// DB is an open pool on the employee's account; the caller closes it.
	DB *sql.DB
	// Options are the service's own settings: from the environment
	// (OptionsFromEnv) in production, from code in tests and the local
	// launcher; New checks them either way.
	Options Options
}

// New builds the service: its store over deps.DB, its sessions, pages and
// routes. When no employee account exists and the options name a first
// administrator, it creates that account once the database is ready (see
// firstAdmin).
func New(deps Deps) (*web.Service, error) {
	log, cfg, opts := deps.Log, deps.Web, deps.Options
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("employee settings:\n%w", err)
	}
	sessions, err := auth.NewManager(auth.ManagerConfig{Keys: opts.SessionKeys,
		IdleTimeout: opts.IdleTimeout, MaxAge: opts.MaxAge, Now: opts.Now})
	if err != nil {
		return nil, err
	}
	svc, err := web.NewService(log, cfg, deps.DB, site, templateFiles)
	if err != nil {
		return nil, err
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepContext
	}
	verify := opts.VerifyPassword
	if verify == nil {
		verify = auth.VerifyPassword
	}
	app, engine := svc.App, svc.Engine
	h := handlers{app: app, store: svc.Store, sessions: sessions, log: log, sleep: sleep,
		firstAdmin: newFirstAdmin(opts.AdminEmail, opts.AdminPassword),
		sessionChecks: auth.NewSessionChecks(sessions.Now, func(ctx context.Context, s auth.Session) (bool, error) {
			return svc.Store.SessionValid(ctx, s.EmployeeID, s.Generation, auth.SessionID(s))
		}),
		hashSlots: auth.NewHashSlots(opts.MaxConcurrentHashes), verify: verify}
	svc.WhenReady(func(ctx context.Context) error { return h.firstAdmin.ensure(ctx, log, svc.Store) })

	// Every administration page is behind the guard. The static files,
	// /healthz and /readyz were added by web.NewService and stay public.
	admin := engine.Group(adminPath, h.guard)
	// route adds a page by the full path links and redirects name it by.
	route := func(method, path string, handler web.Handler) {
		admin.Handle(method, strings.TrimPrefix(path, adminPath), app.Page(handler))
	}
	toList := func(c *gin.Context) { c.Redirect(http.StatusFound, listPath) }
	admin.GET("", toList)
	admin.GET("/", toList)
	route(http.MethodGet, loginPath, h.loginForm)
	route(http.MethodPost, loginPath, h.login)
	route(http.MethodPost, logoutPath, h.logout)
	route(http.MethodGet, listPath, h.list)
	route(http.MethodGet, addPath, h.addForm)
	route(http.MethodPost, addPath, h.create)
	route(http.MethodGet, updatePath+":id", h.updateForm)
	route(http.MethodPost, updatePath+":id", h.update)
	route(http.MethodGet, removePath+":id", h.removeConfirmation)
	route(http.MethodPost, removePath+":id", h.remove)
	// Unknown paths and methods under /admin pass the guard too: a visitor
	// is sent to sign in rather than told which addresses exist, and an
	// employee's not-found page shows them signed in.
	engine.NoRoute(h.guardUnrouted, app.NotFound)
	engine.NoMethod(h.guardUnrouted, app.MethodNotAllowed)
	return svc, nil
}

// sleepContext waits d, or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notices are the banners the list shows after a change, keyed by the
// redirect's notice parameter; other values are ignored. A notice names its
// supplier only as the audit trail records what this employee did to it
// (see noticeFor), so a link cannot put arbitrary words on the page.
var notices = map[string]struct {
	action   string // the audit action that names the supplier
	named    string // with the supplier's name for %s
	unnamed  string // when the trail does not name it
	writesTo bool   // the change wrote, so the lists are invalidated
}{
	"created":   {suppliers.ActionCreate, "Supplier “%s” added.", "Supplier added.", true},
	"updated":   {suppliers.ActionUpdate, "Supplier “%s” updated.", "Changes saved.", true},
	"deleted":   {suppliers.ActionDelete, "Supplier “%s” deleted.", "Supplier deleted.", true},
	"unchanged": {"", "", "No changes to save.", false},
}

// noticeFor is the banner for the notice and id of the list's query: the
// supplier's name as the newest audit row of that action by this employee
// records it, or the unnamed words when there is none. html/template
// escapes the name once, like every value on the page.
func (h handlers) noticeFor(c *gin.Context) (string, error) {
	n, ok := notices[c.Query("notice")]
	if !ok {
		return "", nil
	}
	id, err := suppliers.ParseID(c.Query("id"))
	if n.action == "" || err != nil {
		return n.unnamed, nil
	}
	changes, err := h.store.History(c.Request.Context(), id)
	if err != nil {
		return "", err
	}
	me := session(c).EmployeeID
	for _, ch := range changes {
		if ch.Action != n.action || ch.Actor.ID != me {
			continue
		}
		values := ch.After
		if values == nil {
			values = ch.Before
		}
		if values != nil {
			return fmt.Sprintf(n.named, values.Name), nil
		}
	}
	return n.unnamed, nil
}

// listPage is the data of the suppliers page.
type listPage struct {
	List   suppliers.List
	Notice string
}

// list serves the list from the page cache, except the list a change
// redirects to (it has a notice): that one is read afresh on whichever
// replica serves it, so an employee always sees their own change. Other
// employees' changes show within PAGE_CACHE_TTL, and at once on the
// replica that made them (redirectToList empties its cache).
func (h handlers) list(c *gin.Context) error {
	q, err := web.ListQuery(c, false)
	if err != nil {
		return err
	}
	notice, err := h.noticeFor(c)
	if err != nil {
		return err
	}
	if notice != "" {
		list, err := h.store.List(c.Request.Context(), q)
		if err != nil {
			return err
		}
		return h.app.HTML(c, http.StatusOK, "suppliers", "Suppliers", listPage{List: list, Notice: notice})
	}
	return h.app.CachedContent(c, "suppliers", "Suppliers", web.QueryKey(q), func() (any, error) {
		list, err := h.store.List(c.Request.Context(), q)
		return listPage{List: list}, err
	})
}

// redirectToList ends a form's post with 303 See Other, so reloading the
// list does not submit the form again, and names what happened to supplier
// id (0 when unknown) for the list's notice.
func (h handlers) redirectToList(c *gin.Context, notice string, id int64) {
	if notices[notice].writesTo {
		// This replica's next lists show the change at once; the list
		// with the notice reads afresh on any replica.
		h.app.InvalidateCache()
	}
	q := url.Values{"notice": {notice}}
	if id != 0 {
		q.Set("id", strconv.FormatInt(id, 10))
	}
	c.Redirect(http.StatusSeeOther, listPath+"?"+q.Encode())
}

func (h handlers) addForm(c *gin.Context) error {
	page := newSupplierForm(suppliers.Input{}, nil)
	page.FormToken = auth.NewToken()
	return h.showForm(c, http.StatusOK, page)
}

func (h handlers) create(c *gin.Context) error {
	form, err := web.ParseForm(c)
	if err != nil {
		return err
	}
	token, err := formToken(form)
	if err != nil {
		return err
	}
	in := inputFrom(form)
	created, err := h.store.CreateOnce(c.Request.Context(), actor(c), token, in)
	var invalid suppliers.FieldErrors
	switch {
	case errors.As(err, &invalid):
		// Nothing was added, so the form keeps its token.
		page := newSupplierForm(in, invalid)
		page.FormToken = token
		return h.showForm(c, http.StatusBadRequest, page)
	case errors.Is(err, suppliers.ErrAlreadySubmitted):
		// The same form posted again: its first post added the supplier.
	case err != nil:
		return err
	}
	h.redirectToList(c, "created", created.ID)
	return nil
}

// supplierInPath loads the supplier whose id is the path's :id.
func (h handlers) supplierInPath(c *gin.Context) (suppliers.Supplier, error) {
	id, err := suppliers.ParseID(c.Param("id"))
	if err != nil {
		return suppliers.Supplier{}, err
	}
	return h.store.Get(c.Request.Context(), id)
}

// versionedPost reads a change to the supplier in the path: its id, the
// form, the version the employee saw when the form was drawn, and the
// form's one-time token.
func versionedPost(c *gin.Context) (id, version int64, form url.Values, token string, err error) {
	if id, err = suppliers.ParseID(c.Param("id")); err != nil {
		return 0, 0, nil, "", err
	}
	if form, err = web.ParseForm(c); err != nil {
		return 0, 0, nil, "", err
	}
	if version, err = parseVersion(form.Get("version")); err != nil {
		return 0, 0, nil, "", err
	}
	if token, err = formToken(form); err != nil {
		return 0, 0, nil, "", err
	}
	return id, version, form, token, nil
}

func (h handlers) updateForm(c *gin.Context) error {
	s, err := h.supplierInPath(c)
	if err != nil {
		return err
	}
	page := editSupplierForm(s.ID, s.Version, s.Input(), nil)
	page.FormToken = auth.NewToken()
	return h.showEditForm(c, http.StatusOK, page)
}

func (h handlers) update(c *gin.Context) error {
	id, version, form, token, err := versionedPost(c)
	if err != nil {
		return err
	}
	in := inputFrom(form)
	_, err = h.store.UpdateOnce(c.Request.Context(), actor(c), token, id, version, in)
	var invalid suppliers.FieldErrors
	var conflict *suppliers.ConflictError
	switch {
	case errors.As(err, &invalid):
		page := editSupplierForm(id, version, in, invalid)
		page.FormToken = token
		return h.showEditForm(c, http.StatusBadRequest, page)
	case errors.As(err, &conflict):
		// Keep what the employee typed, but base the form on the current
		// version: saving again is then a deliberate choice to overwrite
		// the values now shown, not a silent one.
		page := editSupplierForm(id, conflict.Current.Version, in, nil)
		page.Current = detailsOf(conflict.Current)
		page.FormToken = token
		return h.showEditForm(c, http.StatusConflict, page)
	case errors.Is(err, suppliers.ErrUnchanged):
		// Nothing to save: no version taken, so a colleague with the
		// same supplier open saves without a conflict.
		h.redirectToList(c, "unchanged", id)
		return nil
	case errors.Is(err, suppliers.ErrAlreadySubmitted):
		// The same form posted again: its first post saved the changes.
	case err != nil:
		return err
	}
	h.redirectToList(c, "updated", id)
	return nil
}

func (h handlers) removeConfirmation(c *gin.Context) error {
	s, err := h.supplierInPath(c)
	if err != nil {
		return err
	}
	page := newRemovePage(s, false)
	page.FormToken = auth.NewToken()
	return h.showRemove(c, http.StatusOK, page)
}

func (h handlers) remove(c *gin.Context) error {
	id, version, _, token, err := versionedPost(c)
	if err != nil {
		return err
	}
	err = h.store.DeleteOnce(c.Request.Context(), actor(c), token, id, version)
	var conflict *suppliers.ConflictError
	switch {
	case errors.As(err, &conflict):
		// Ask again with what the supplier holds now: nobody deletes
		// values they have not seen.
		page := newRemovePage(conflict.Current, true)
		page.FormToken = token
		return h.showRemove(c, http.StatusConflict, page)
	case errors.Is(err, suppliers.ErrAlreadySubmitted):
		// The same form posted again: its first post deleted the supplier.
	case err != nil:
		return err
	}
	h.redirectToList(c, "deleted", id)
	return nil
}

func (h handlers) showForm(c *gin.Context, status int, page supplierForm) error {
	title := page.Heading
	if len(page.Errors) > 0 {
		// Screen readers announce the title first; say at once that the
		// form came back with problems.
		title = "Error: " + title
	}
	return h.app.HTML(c, status, "supplier-form", title, page)
}

// showEditForm shows the edit form with the supplier's history below it,
// newest first: after a conflict it tells who changed the supplier.
func (h handlers) showEditForm(c *gin.Context, status int, page supplierForm) error {
	changes, err := h.store.History(c.Request.Context(), page.ID)
	if err != nil {
		return err
	}
	page.History = historyOf(changes)
	page.ShowHistory = true
	return h.showForm(c, status, page)
}

func (h handlers) showRemove(c *gin.Context, status int, page removePage) error {
	return h.app.HTML(c, status, "supplier-remove", page.Heading, page)
}
