// Command stackparams checks an environment's parameter file against the
// templates before deploy.sh touches any stack, and tells deploy.sh what
// to build for:
//
//	stackparams check PARAMS.json TEMPLATES ENV OUTDIR STACK…
//	    every stack of the file: one of the STACKs, each parameter declared by
//	    its template, each value allowed (AllowedValues, AllowedPattern,
//	    lengths, numbers and their bounds), ENV allowed as EnvName; then
//	    OUTDIR/STACK.params for each stack, one Key=Value a line (the words
//	    of `aws cloudformation deploy --parameter-overrides`). Every problem
//	    is printed, and the exit status is 1.
//	stackparams platform PARAMS.json TEMPLATE.yaml
//	    for each image the template's task definitions run, one line
//	    "IMAGE PLATFORM": the Docker platform (linux/amd64, linux/arm64) of
//	    its task definition's CPU architecture, with the parameters the file
//	    gives the template's stack (TEMPLATE's name: services.yaml →
//	    services).
//	stackparams roles TEMPLATES OUTDIR STACK…
//	    the roles OUTDIR/STACK.params give in place of roles the stacks
//	    would create, one a line: the role's name, a tab, the services
//	    that must be able to assume it (space-separated), a tab, the
//	    parameters that name it (stack.Parameter, comma-separated).
//	stackparams trust SERVICE… <DOC.json
//	    which of the services the trust policy document on stdin does
//	    not let assume the role, space-separated (nothing when all may).
package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/coffee-suppliers/coffee-suppliers/infra/cfn"
)

const usage = "usage: stackparams check PARAMS.json TEMPLATES ENV OUTDIR STACK… | stackparams platform PARAMS.json TEMPLATE.yaml | stackparams roles TEMPLATES OUTDIR STACK… | stackparams trust SERVICE… <DOC.json"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "stackparams:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) >= 6 && args[0] == "check":
		words, err := cfn.AllOverrides(args[1], args[2], args[3], args[5:])
		if err != nil {
			return err
		}
		for stack, w := range words {
			text := strings.Join(w, "\n")
			if text != "" {
				text += "\n"
			}
			if err := os.WriteFile(filepath.Join(args[4], stack+".params"), []byte(text), 0o600); err != nil {
				return fmt.Errorf("write %s's parameters: %w", stack, err)
			}
		}
		return nil
	case len(args) == 3 && args[0] == "platform":
		t, err := cfn.Load(args[2])
		if err != nil {
			return err
		}
		stack := strings.TrimSuffix(filepath.Base(args[2]), filepath.Ext(args[2]))
		params, err := cfn.StackParams(args[1], stack)
		if err != nil {
			return err
		}
		platforms, err := cfn.Platforms(t, params)
		if err != nil {
			return fmt.Errorf("%s: %w", args[2], err)
		}
		for _, image := range slices.Sorted(maps.Keys(platforms)) {
			fmt.Println(image, platforms[image])
		}
		return nil
	case len(args) >= 4 && args[0] == "roles":
		return givenRoles(args[1], args[2], args[3:])
	case len(args) >= 2 && args[0] == "trust":
		doc, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("read the trust policy: %w", err)
		}
		missing, err := cfn.MissingTrust(doc, args[1:])
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(missing, " "))
		return nil
	}
	return fmt.Errorf("%s", usage)
}

func givenRoles(dir, outdir string, stacks []string) error {
	templates := map[string]*cfn.Template{}
	words := map[string][]string{}
	for _, stack := range stacks {
		t, err := cfn.Load(filepath.Join(dir, stack+".yaml"))
		if err != nil {
			return err
		}
		templates[stack] = t
		b, err := os.ReadFile(filepath.Join(outdir, stack+".params"))
		if err != nil {
			return fmt.Errorf("%s's checked parameters: %w", stack, err)
		}
		words[stack] = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	roles, err := cfn.GivenRoles(templates, words)
	if err != nil {
		return err
	}
	for _, r := range roles {
		fmt.Printf("%s\t%s\t%s\n", r.Name, strings.Join(r.Services, " "), strings.Join(r.Users, ","))
	}
	return nil
}
