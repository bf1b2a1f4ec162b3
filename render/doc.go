// Package render turns an ECS task definition template into a checked,
// rendered task definition and the data of the pipeline artifacts.
//
// It loads templates (a file, stdin or S3), evaluates the Go template actions
// inside their string values, resolves container images in ECR, and checks
// the result against the ECS API model and the rules ECS applies at
// registration. It writes nothing: package artifacts does that.
package render
