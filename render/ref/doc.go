// Package ref parses the names ecsrender is given: container image
// references and the ECR registries they name, template sources (a file,
// stdin or s3://BUCKET/KEY) and CodeDeploy placeholder tokens.
//
// It is pure: standard library only, no file, no network. Its errors name
// the value that is wrong; callers decide whether that is the user's input.
package ref
