package infra

// A recording stand-in for the `aws` and `docker` commands, so deploy.sh
// runs offline against a scripted account. The test binary itself is the
// stand-in: deploy_test.go puts symbolic links named aws and docker to it
// first on PATH, with COFFEE_STANDIN_STATE naming the account's state (a
// JSON world) and COFFEE_STANDIN_LOG the file each call is recorded in.
// It answers only the calls and --query forms deploy.sh makes; anything else
// exits 99 with "stand-in: unsupported", so a test notices a new call.
//
// What it models is what the AWS documentation says the real services do;
// each behaviour deploy.sh depends on cites its page beside it.

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

const (
	standInStateEnv = "COFFEE_STANDIN_STATE"
	standInLogEnv   = "COFFEE_STANDIN_LOG"
)

// init turns the test binary into the stand-in when deploy.sh calls it
// through one of its links; it never returns then.
func init() {
	state := os.Getenv(standInStateEnv)
	if state == "" {
		return
	}
	tool := filepath.Base(os.Args[0])
	if tool != "aws" && tool != "docker" {
		return
	}
	os.Exit(runStandIn(tool, os.Args[1:], state, os.Getenv(standInLogEnv)))
}

// world is the scripted account and workstation.
type world struct {
	Env         string
	Account     string
	Region      string // what `aws configure get region` answers ("" = none set)
	Stacks      map[string]*fakeStack
	Outputs     map[string]map[string]string   // by short stack name: the outputs a created stack gets
	FailCreate  map[string]string              // short stack name → the reason its first resource fails to create
	ECR         map[string]map[string]string   // repository → tag → digest
	Local       map[string]*localImage         // docker's images by reference
	Workstation string                         // the workstation's architecture (what docker builds without --platform)
	BuildArch   string                         // when set, docker build makes this architecture whatever --platform says
	LinkedRoles map[string]string              // AWS service → "exists", or an error to fail creating its role with
	Roles       map[string]map[string]any      // the account's roles by name → their trust policy documents
	ExitCode    int                            // the migration container's exit code
	Deployments map[string][]string            // CodeDeploy deployment group → deployments in progress
	Buckets     map[string]map[string][]string // S3: bucket → key → the files of the zip stored there
	Seeded      map[string][]string            // stack → the files its CodeCommit repository's first commit holds
	Seq         int
}

type fakeStack struct {
	Status  string
	Params  map[string]string
	Outputs map[string]string
	Events  []fakeEvent // oldest first
}

type fakeEvent struct{ ID, Logical, Type, Status, Reason string }

type localImage struct {
	Arch        string
	Digest      string
	RepoDigests []string
}

// call is one recorded invocation.
type call struct {
	Tool   string
	Args   []string
	Region string // AWS_DEFAULT_REGION as the call saw it (awscli v1 reads only that)
}

func (c call) String() string { return c.Tool + " " + strings.Join(c.Args, " ") }

// has reports whether the call is `tool words…` (its first words).
func (c call) has(tool string, words ...string) bool {
	return c.Tool == tool && len(c.Args) >= len(words) && slices.Equal(c.Args[:len(words)], words)
}

// flag returns the values after --name (until the next option).
func (c call) flag(name string) []string {
	return flagValues(c.Args, name)
}

func flagValues(args []string, name string) []string {
	for i, a := range args {
		if a != name {
			continue
		}
		var vals []string
		for _, v := range args[i+1:] {
			if strings.HasPrefix(v, "--") {
				break
			}
			vals = append(vals, v)
		}
		return vals
	}
	return nil
}

func (w *world) next() string {
	w.Seq++
	return fmt.Sprintf("%04d", w.Seq)
}

type standIn struct {
	w      *world
	args   []string
	stdout io.Writer
	stderr io.Writer
}

// fail is the stand-in's error exit: the message on stderr and a status.
type fail struct {
	code int
	msg  string
}

func runStandIn(tool string, args []string, statePath, logPath string) int {
	// docker login reads its password to the end first, outside the lock:
	// the aws call writing it takes the lock too.
	if tool == "docker" && len(args) > 0 && args[0] == "login" {
		io.Copy(io.Discard, os.Stdin)
	}
	lock, err := os.OpenFile(statePath+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stand-in:", err)
		return 98
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		fmt.Fprintln(os.Stderr, "stand-in: lock:", err)
		return 98
	}
	w, err := readWorld(statePath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stand-in:", err)
		return 98
	}
	if logPath != "" {
		line, _ := json.Marshal(call{Tool: tool, Args: args, Region: os.Getenv("AWS_DEFAULT_REGION")})
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err == nil {
			f.Write(append(line, '\n'))
			f.Close()
		}
	}
	s := &standIn{w: w, args: args, stdout: os.Stdout, stderr: os.Stderr}
	var res any
	var f *fail
	if tool == "aws" {
		res, f = s.aws()
	} else {
		f = s.docker()
	}
	if err := writeWorld(statePath, w); err != nil {
		fmt.Fprintln(os.Stderr, "stand-in:", err)
		return 98
	}
	if f != nil {
		fmt.Fprintln(os.Stderr, f.msg)
		return f.code
	}
	if res != nil {
		printText(os.Stdout, res)
	}
	return 0
}

func readWorld(path string) (*world, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the world: %w", err)
	}
	var w world
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("parse the world: %w", err)
	}
	return &w, nil
}

func writeWorld(path string, w *world) error {
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// printText prints a result as awscli's --output text does: a list of
// scalars on one line separated by tabs, a list of lists one line each,
// a missing value as None.
func printText(out io.Writer, v any) {
	switch x := v.(type) {
	case string:
		fmt.Fprintln(out, x)
	case []string:
		if len(x) > 0 {
			fmt.Fprintln(out, strings.Join(x, "\t"))
		}
	case [][]string:
		for _, row := range x {
			fmt.Fprintln(out, strings.Join(row, "\t"))
		}
	}
}

func unsupported(args []string) *fail {
	return &fail{99, "stand-in: unsupported: " + strings.Join(args, " ")}
}

// aws answers one awscli call; the global options deploy.sh may add
// (--region, --output) are taken out first.
func (s *standIn) aws() (any, *fail) {
	var args []string
	query := ""
	for i := 0; i < len(s.args); i++ {
		switch s.args[i] {
		case "--region", "--output":
			i++
		case "--query":
			i++
			if i < len(s.args) {
				query = s.args[i]
			}
		default:
			args = append(args, s.args[i])
		}
	}
	if len(args) < 2 {
		return nil, unsupported(s.args)
	}
	w := s.w
	op := args[0] + " " + args[1]
	opt := func(name string) string {
		v := flagValues(args, name)
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	switch op {
	case "configure get":
		if w.Region == "" {
			return nil, &fail{1, ""}
		}
		return w.Region, nil
	case "sts get-caller-identity":
		return w.Account, nil
	case "cloudformation describe-stacks":
		name := opt("--stack-name")
		st := w.Stacks[name]
		if st == nil {
			return nil, &fail{255, fmt.Sprintf("\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id %s does not exist", name)}
		}
		if query == "Stacks[0].StackStatus" {
			return st.Status, nil
		}
		if m := regexp.MustCompile(`^Stacks\[0\]\.Outputs\[\?OutputKey=='(\w+)'\]\.OutputValue$`).FindStringSubmatch(query); m != nil {
			if v, ok := st.Outputs[m[1]]; ok {
				return []string{v}, nil
			}
			return []string{}, nil
		}
		if m := regexp.MustCompile(`^Stacks\[0\]\.Parameters\[\?ParameterKey=='(\w+)'\]\.ParameterValue$`).FindStringSubmatch(query); m != nil {
			if v, ok := st.Params[m[1]]; ok {
				return []string{v}, nil
			}
			return []string{}, nil
		}
	case "cloudformation describe-stack-events":
		st := w.Stacks[opt("--stack-name")]
		if st == nil {
			return nil, &fail{255, "\nAn error occurred (ValidationError) when calling the DescribeStackEvents operation: Stack [" + opt("--stack-name") + "] does not exist"}
		}
		if query == "StackEvents[].[EventId,LogicalResourceId,ResourceType,ResourceStatus,ResourceStatusReason]" {
			var rows [][]string
			for i := len(st.Events) - 1; i >= 0; i-- {
				e := st.Events[i]
				reason := e.Reason
				if reason == "" {
					reason = "None"
				}
				rows = append(rows, []string{e.ID, e.Logical, e.Type, e.Status, reason})
			}
			return rows, nil
		}
	case "cloudformation deploy":
		return nil, s.deployStack(args)
	case "cloudformation delete-stack":
		// The stand-in deletes at once; the waiter below finds it gone.
		delete(w.Stacks, opt("--stack-name"))
		return nil, nil
	case "cloudformation wait":
		if len(args) > 2 && args[2] == "stack-delete-complete" {
			return nil, nil
		}
	case "ecr describe-images":
		repo, tag := opt("--repository-name"), strings.TrimPrefix(opt("--image-ids"), "imageTag=")
		digest, ok := w.ECR[repo][tag]
		if !ok {
			return nil, &fail{255, fmt.Sprintf("\nAn error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s'", tag, repo)}
		}
		if query == "imageDetails[0].imageDigest" {
			return digest, nil
		}
		return "{}", nil
	case "ecr get-login-password":
		return "stand-in-token", nil
	case "ecr describe-repositories":
		if m := regexp.MustCompile(`^repositories\[\?starts_with\(repositoryName, '([^']+)'\)\]\.repositoryName$`).FindStringSubmatch(query); m != nil {
			var names []string
			for repo := range w.ECR {
				if strings.HasPrefix(repo, m[1]) {
					names = append(names, repo)
				}
			}
			sort.Strings(names)
			return names, nil
		}
	case "ecr delete-repository":
		delete(w.ECR, opt("--repository-name"))
		return nil, nil
	case "iam create-service-linked-role":
		svc := opt("--aws-service-name")
		// "Service role name AWSServiceRoleForECS has been taken in this
		// account" is IAM's answer when the role exists:
		// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
		switch st := w.LinkedRoles[svc]; st {
		case "":
			w.LinkedRoles[svc] = "exists"
			return "{}", nil
		case "exists":
			return nil, &fail{255, "\nAn error occurred (InvalidInput) when calling the CreateServiceLinkedRole operation: Service role name AWSServiceRoleFor" + svc + " has been taken in this account, please try a different suffix."}
		default:
			return nil, &fail{255, "\n" + st}
		}
	case "iam get-role":
		// awscli (v1 and v2) prints the trust policy decoded, as JSON, not
		// as the URL-encoded text the API returns:
		// https://docs.aws.amazon.com/cli/latest/reference/iam/get-role.html
		name := opt("--role-name")
		doc, ok := w.Roles[name]
		if !ok {
			return nil, &fail{255, "\nAn error occurred (NoSuchEntity) when calling the GetRole operation: The role with name " + name + " cannot be found."}
		}
		if query == "Role.RoleName" {
			return name, nil
		}
		if query == "Role.AssumeRolePolicyDocument" && slices.Equal(flagValues(s.args, "--output"), []string{"json"}) {
			b, _ := json.MarshalIndent(doc, "", "    ")
			fmt.Fprintln(s.stdout, string(b))
			return nil, nil
		}
	case "ecs run-task":
		if query == "tasks[0].taskArn" {
			return fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", "eu-west-1", w.Account, opt("--cluster"), "f00d"+w.next()), nil
		}
	case "ecs wait":
		if len(args) > 2 && args[2] == "tasks-stopped" {
			return nil, nil
		}
	case "ecs describe-tasks":
		if query == "tasks[0].[containers[0].exitCode,stoppedReason]" {
			return []string{fmt.Sprint(w.ExitCode), "Essential container in task exited"}, nil
		}
	case "elbv2 describe-load-balancers":
		if query == "LoadBalancers[0].LoadBalancerArn" {
			return fmt.Sprintf("arn:aws:elasticloadbalancing:eu-west-1:%s:loadbalancer/app/%s/50dc6c495c0c9188", w.Account, opt("--names")), nil
		}
	case "elbv2 modify-load-balancer-attributes":
		return nil, nil
	case "deploy list-deployments":
		if query == "deployments" {
			return w.Deployments[opt("--deployment-group-name")], nil
		}
	case "deploy get-deployment":
		if query == "deploymentInfo.status" {
			for _, ids := range w.Deployments {
				if slices.Contains(ids, opt("--deployment-id")) {
					return "InProgress", nil
				}
			}
			return "Stopped", nil
		}
	case "deploy stop-deployment":
		id := opt("--deployment-id")
		for g, ids := range w.Deployments {
			w.Deployments[g] = slices.DeleteFunc(ids, func(d string) bool { return d == id })
		}
		return nil, nil
	case "s3 rm":
		return nil, nil
	case "s3 mb", "s3 cp", "s3 rb":
		return nil, s.s3(args)
	case "secretsmanager get-secret-value":
		return nil, unsupported(s.args) // deploy.sh only prints this command
	}
	return nil, unsupported(s.args)
}

// s3 is `aws s3 mb|cp|rb` on this account's buckets (the stand-in owns no
// other): mb of a bucket the account has is refused with
// BucketAlreadyOwnedByYou (outside us-east-1), cp needs the bucket and a
// local file, rb only removes a bucket that exists:
// https://docs.aws.amazon.com/cli/latest/reference/s3/
func (s *standIn) s3(args []string) *fail {
	w := s.w
	if w.Buckets == nil {
		w.Buckets = map[string]map[string][]string{}
	}
	if len(args) < 3 {
		return unsupported(s.args)
	}
	switch args[1] {
	case "mb":
		name, ok := strings.CutPrefix(args[2], "s3://")
		if !ok || len(args) != 3 {
			return unsupported(s.args)
		}
		if _, ok := w.Buckets[name]; ok {
			return &fail{1, "make_bucket failed: s3://" + name + " An error occurred (BucketAlreadyOwnedByYou) when calling the CreateBucket operation: Your previous request to create the named bucket succeeded and you already own it."}
		}
		w.Buckets[name] = map[string][]string{}
		fmt.Fprintln(s.stdout, "make_bucket: "+name)
		return nil
	case "cp":
		rest := slices.DeleteFunc(slices.Clone(args[2:]), func(a string) bool { return a == "--quiet" })
		if len(rest) != 2 {
			return unsupported(s.args)
		}
		bucket, key, ok := strings.Cut(strings.TrimPrefix(rest[1], "s3://"), "/")
		if !strings.HasPrefix(rest[1], "s3://") || !ok || key == "" {
			return unsupported(s.args)
		}
		files, err := zipFiles(rest[0])
		if err != nil {
			return &fail{1, "upload failed: " + rest[0] + " to " + rest[1] + " " + err.Error()}
		}
		if _, ok := w.Buckets[bucket]; !ok {
			return &fail{1, "upload failed: " + rest[0] + " to " + rest[1] + " An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist"}
		}
		w.Buckets[bucket][key] = files
		return nil
	case "rb":
		name, ok := strings.CutPrefix(args[2], "s3://")
		if !ok || len(args) != 4 || args[3] != "--force" {
			return unsupported(s.args)
		}
		if _, ok := w.Buckets[name]; !ok {
			return &fail{1, "remove_bucket failed: s3://" + name + " An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist"}
		}
		delete(w.Buckets, name)
		fmt.Fprintln(s.stdout, "remove_bucket: "+name)
		return nil
	}
	return unsupported(s.args)
}

// zipFiles lists the files of a local zip (the seed of a repository).
func zipFiles(path string) ([]string, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	return names, nil
}

// deployStack is `aws cloudformation deploy`: a change set, executed.
// A stack in ROLLBACK_COMPLETE (and the other states a failed creation
// leaves) cannot be updated, only deleted:
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
// Parameters not given keep their previous values on an update (the
// command sends UsePreviousValue for them). A CodeCommit repository
// created with Code reads its zip from S3 during the creation, with the
// caller's credentials, and ignores Code on every later update:
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codecommit-repository-code.html
func (s *standIn) deployStack(args []string) *fail {
	w := s.w
	name := flagValues(args, "--stack-name")[0]
	tplPath := flagValues(args, "--template-file")[0]
	short := strings.TrimPrefix(name, "coffee-suppliers-"+w.Env+"-")
	tpl, err := cfn.Load(tplPath)
	if err != nil {
		return &fail{255, err.Error()}
	}
	given := map[string]string{}
	for _, kv := range flagValues(args, "--parameter-overrides") {
		k, v, _ := strings.Cut(kv, "=")
		given[k] = v
	}
	st := w.Stacks[name]
	if st != nil {
		switch st.Status {
		case "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE":
		default:
			return &fail{255, fmt.Sprintf("\nAn error occurred (ValidationError) when calling the CreateChangeSet operation: Stack:arn:aws:cloudformation:eu-west-1:%s:stack/%s/1 is in %s state and can not be updated.", w.Account, name, st.Status)}
		}
	}
	params := map[string]string{}
	if st != nil {
		for k, v := range st.Params {
			params[k] = v
		}
	}
	for k, v := range given {
		params[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(tpl.Parameters)) {
		if _, hasDefault := tpl.Parameters[k]["Default"]; !hasDefault && params[k] == "" {
			return &fail{255, fmt.Sprintf("\nAn error occurred (ValidationError) when calling the CreateChangeSet operation: Parameters: [%s] must have values", k)}
		}
	}
	resources := slices.Sorted(maps.Keys(tpl.Resources))
	event := func(st *fakeStack, logical, typ, status, reason string) {
		st.Events = append(st.Events, fakeEvent{ID: name + "-" + w.next(), Logical: logical, Type: typ, Status: status, Reason: reason})
	}
	fmt.Fprintln(s.stdout, "\nWaiting for changeset to be created..")
	if st == nil {
		st = &fakeStack{Params: params, Outputs: w.Outputs[short]}
		w.Stacks[name] = st
		event(st, name, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated")
		reason, failed := w.FailCreate[short]
		if bucket, key := params["InitialSourceBucket"], params["InitialSourceKey"]; !failed && bucket != "" && key != "" {
			files, ok := w.Buckets[bucket][key]
			if !ok {
				reason, failed = "Your access has been denied by S3, please make sure your request credentials have permission to GetObject for "+bucket+"/"+key, true
			} else {
				if w.Seeded == nil {
					w.Seeded = map[string][]string{}
				}
				w.Seeded[name] = files
			}
		}
		if failed {
			first := resources[0]
			event(st, first, tpl.Resources[first].Type, "CREATE_IN_PROGRESS", "")
			event(st, first, tpl.Resources[first].Type, "CREATE_FAILED", reason)
			event(st, name, "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: ["+first+"]. Rollback requested by user.")
			event(st, first, tpl.Resources[first].Type, "DELETE_COMPLETE", "")
			event(st, name, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", "")
			st.Status = "ROLLBACK_COMPLETE"
			return &fail{255, "\nFailed to create/update the stack. Run the following command\nto fetch the list of events leading up to the failure\naws cloudformation describe-stack-events --stack-name " + name}
		}
		for _, r := range resources[:min(2, len(resources))] {
			event(st, r, tpl.Resources[r].Type, "CREATE_IN_PROGRESS", "")
			event(st, r, tpl.Resources[r].Type, "CREATE_COMPLETE", "")
		}
		event(st, name, "AWS::CloudFormation::Stack", "CREATE_COMPLETE", "")
		st.Status = "CREATE_COMPLETE"
		fmt.Fprintln(s.stdout, "Waiting for stack create/update to complete\nSuccessfully created/updated stack - "+name)
		return nil
	}
	st.Params = params
	event(st, name, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", "User Initiated")
	event(st, name, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", "")
	st.Status = "UPDATE_COMPLETE"
	fmt.Fprintln(s.stdout, "Waiting for stack create/update to complete\nSuccessfully created/updated stack - "+name)
	return nil
}

// docker answers the docker calls of deploy.sh and of the Makefile's
// images target: images live in the world, by reference.
func (s *standIn) docker() *fail {
	w := s.w
	args := s.args
	if len(args) == 0 {
		return unsupported(args)
	}
	switch {
	case args[0] == "login":
		fmt.Fprintln(s.stdout, "Login Succeeded")
		return nil
	case args[0] == "build":
		arch := w.Workstation
		if p := flagValues(args, "--platform"); len(p) > 0 {
			arch = strings.TrimPrefix(p[0], "linux/")
		}
		if w.BuildArch != "" {
			arch = w.BuildArch
		}
		ref := flagValues(args, "-t")
		if len(ref) == 0 {
			return unsupported(args)
		}
		w.Local[ref[0]] = &localImage{Arch: arch, Digest: "sha256:" + arch + w.next()}
		return nil
	case len(args) > 1 && args[0] == "image" && args[1] == "ls":
		for _, ref := range slices.Sorted(maps.Keys(w.Local)) {
			fmt.Fprintf(s.stdout, "%s\t12MB\n", ref)
		}
		return nil
	case len(args) > 1 && args[0] == "image" && args[1] == "inspect":
		format, ref := flagValues(args[:len(args)-1], "--format"), args[len(args)-1]
		img := w.Local[ref]
		if img == nil {
			return &fail{1, "Error response from daemon: No such image: " + ref}
		}
		switch {
		case len(format) == 1 && format[0] == "{{.Architecture}}":
			fmt.Fprintln(s.stdout, img.Arch)
			return nil
		case len(format) == 1 && format[0] == `{{join .RepoDigests " "}}`:
			fmt.Fprintln(s.stdout, strings.Join(img.RepoDigests, " "))
			return nil
		}
	case args[0] == "push":
		ref := args[len(args)-1]
		img := w.Local[ref]
		if img == nil {
			return &fail{1, "An image does not exist locally with the tag: " + ref}
		}
		repoPath, tag, _ := strings.Cut(ref, ":")
		host, repo, _ := strings.Cut(repoPath, "/")
		_ = host
		// Immutable tags: ECR refuses to overwrite one.
		if _, ok := w.ECR[repo][tag]; ok {
			return &fail{1, fmt.Sprintf("tag invalid: The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, repo)}
		}
		if w.ECR[repo] == nil {
			w.ECR[repo] = map[string]string{}
		}
		w.ECR[repo][tag] = img.Digest
		img.RepoDigests = append(img.RepoDigests, repoPath+"@"+img.Digest)
		fmt.Fprintf(s.stdout, "%s: digest: %s size: 1234\n", tag, img.Digest)
		return nil
	case args[0] == "pull":
		ref := args[len(args)-1]
		repoPath, tag, _ := strings.Cut(ref, ":")
		host, repo, _ := strings.Cut(repoPath, "/")
		// A pull through the account's cache makes ECR fetch the image
		// from the upstream registry into ecr-public-ENV/…:
		// https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html
		if host != w.Account+".dkr.ecr.eu-west-1.amazonaws.com" || !strings.HasPrefix(repo, "ecr-public-"+w.Env+"/") {
			return &fail{1, "Error response from daemon: stand-in: no network to pull " + ref}
		}
		if w.ECR[repo] == nil {
			w.ECR[repo] = map[string]string{}
		}
		w.ECR[repo][tag] = "sha256:agent"
		arch := w.Workstation
		if p := flagValues(args, "--platform"); len(p) > 0 {
			arch = strings.TrimPrefix(p[0], "linux/")
		}
		w.Local[ref] = &localImage{Arch: arch, Digest: "sha256:agent"}
		fmt.Fprintln(s.stdout, "Status: Downloaded newer image for "+ref)
		return nil
	}
	return unsupported(args)
}
