// Package infra holds the platform's CloudFormation templates (templates/),
// the environments' parameters (params/) and deploy.sh, and tests that
// check them offline: the resources the issue asks for, the task
// definitions and AppSpecs of deployment/ against the templates, the
// listener rules against local/gateway's Rules, cfn-lint, the AWS API
// shapes through awscli against moto_server, and buildspec.yml's build
// against a local registry.
package infra
