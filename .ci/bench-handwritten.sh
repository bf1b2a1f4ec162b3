#!/usr/bin/env bash
# The hand-written CodeBuild build step that ecsrender replaces, as teams
# write it: fetch the template with `aws s3 cp`, look up each image's digest
# with `aws ecr describe-images`, substitute with sed, and write the
# artifacts with printf and a heredoc. .ci/bench times it against
# ecsrender on the same inputs (the Rails sample in a local moto), so it
# pins both images and fills the template's variables, as ecsrender does;
# it still breaks on a value holding a quote or a | and checks nothing.
#
#   bash .ci/bench-handwritten.sh OUTDIR
#
# AWS_ENDPOINT_URL must name the endpoint (moto); AWS_CLI may name the aws
# binary. The template location and images default to what .ci/bench seeds.
set -euo pipefail

out="$1"
: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL}"
template="${BENCH_TEMPLATE:-s3://templates/prd-rails/taskdef.json}"
registry="${BENCH_REGISTRY:-123456789012.dkr.ecr.us-east-1.amazonaws.com}"
# Older CLIs ignore AWS_ENDPOINT_URL, so the endpoint is passed as a flag.
aws() { "${AWS_CLI:-aws}" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

mkdir -p "$out"
aws s3 cp "$template" "$out/template.json" >/dev/null
app=$(aws ecr describe-images --repository-name prd-rails --image-ids imageTag=v1.4.2 \
	--query 'imageDetails[0].imageDigest' --output text)
nginx=$(aws ecr describe-images --repository-name prd-rails-nginx --image-ids imageTag=1.27 \
	--query 'imageDetails[0].imageDigest' --output text)
sed -e "s|$registry/prd-rails:latest|$registry/prd-rails@$app|" \
	-e "s|$registry/prd-rails-nginx:1.27|$registry/prd-rails-nginx@$nginx|" \
	-e 's|{{ var \\"web_concurrency\\" }}|2|' \
	-e 's|"{{ var \\"stop_timeout\\" }}"|30|' \
	-e "s|{{ env \\\\\"CODEBUILD_RESOLVED_SOURCE_VERSION\\\\\" \\\\\"dev\\\\\" }}|${CODEBUILD_RESOLVED_SOURCE_VERSION:-dev}|" \
	"$out/template.json" >"$out/taskdef.json"
rm "$out/template.json"
printf '[{"name":"app","imageUri":"%s"}]\n' "$registry/prd-rails@$app" >"$out/imagedefinitions.json"
printf '{"ImageURI":"%s"}\n' "$registry/prd-rails@$app" >"$out/imageDetail.json"
cat >"$out/appspec.yaml" <<YAML
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: nginx
          ContainerPort: 80
YAML
