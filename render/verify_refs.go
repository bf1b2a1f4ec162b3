package render

import (
	"strconv"
	"strings"

	"github.com/ecsrender/ecsrender/render/internal/ascii"
)

// verifyKind is the kind of resource a reference points at.
type verifyKind uint8

const (
	verifyRole verifyKind = iota
	verifyParameter
	verifySecret
	verifyLogGroup
	verifyImage
	verifyServiceKind
	verifyAccount
)

func (k verifyKind) singular() string {
	return [...]string{"role", "ssm parameter", "secret", "log group", "image", "service", "account"}[k]
}

// plural names the kind in the one warning a denied kind gets.
func (k verifyKind) plural() string {
	return [...]string{"roles", "ssm parameters", "secrets", "log groups", "image platforms", "services", "accounts"}[k]
}

// verifyRef is one resource the task definition points at.
type verifyRef struct {
	kind verifyKind
	// path is where the reference is written, e.g.
	// containerDefinitions[0].secrets[2].valueFrom.
	path string
	// region is where to ask, from an ARN or awslogs-region; "" is the
	// run's default region.
	region string
	// id is what the lookup is asked about: a role name or ARN, a parameter
	// name or ARN, a secret ARN without its suffix, a log group name, an
	// image reference.
	id string
	// account is the account an ARN or ECR registry names, "" when the
	// reference is relative to the run's own account.
	account string
	// platform is what an image must offer to run in this task.
	platform Platform
}

// verifyRefs lists the references of td in document order. What is not a
// well-formed reference is left to CheckTaskDefinition, which has already
// reported it.
func verifyRefs(td *Node, in VerifyInput) []verifyRef {
	var refs []verifyRef
	if td == nil || td.Kind != Object {
		return nil
	}
	platform := taskPlatform(td)
	for _, m := range td.Members {
		switch m.Key {
		case "executionRoleArn", "taskRoleArn":
			if m.Value.Kind == String && m.Value.Str != "" {
				r := verifyRef{kind: verifyRole, path: m.Key, id: m.Value.Str}
				if a, ok := splitARN(r.id); ok && a.service == "iam" {
					r.account = a.account
				}
				refs = append(refs, r)
			}
		case "containerDefinitions":
			if m.Value.Kind != Array {
				continue
			}
			for i, ct := range m.Value.Items {
				if ct.Kind == Object {
					refs = append(refs, containerRefs(ct, verifyIndex("containerDefinitions", i), platform, in)...)
				}
			}
		}
	}
	return refs
}

func containerRefs(ct *Node, path string, platform Platform, in VerifyInput) []verifyRef {
	var refs []verifyRef
	for _, m := range ct.Members {
		p := path + "." + m.Key
		switch m.Key {
		case "image":
			img := m.Value.Str
			if r, ok := in.Images[ct.GetString("name")]; ok {
				img = r
			}
			if acct, ok := ecrImageAccount(img); ok {
				refs = append(refs, verifyRef{kind: verifyImage, path: p, id: img, account: acct, platform: platform})
			}
		case "repositoryCredentials":
			if v := m.Value.Get("credentialsParameter"); v != nil && v.Kind == String {
				if r, ok := secretRef(p+".credentialsParameter", v.Str); ok {
					refs = append(refs, r)
				}
			}
		case "secrets":
			refs = append(refs, secretRefs(m.Value, p)...)
		case "logConfiguration":
			refs = append(refs, logRefs(m.Value, p)...)
		}
	}
	return refs
}

// secretRefs reads a secrets or secretOptions list.
func secretRefs(list *Node, path string) []verifyRef {
	if list == nil || list.Kind != Array {
		return nil
	}
	var refs []verifyRef
	for i, s := range list.Items {
		v := s.Get("valueFrom")
		if v == nil || v.Kind != String {
			continue
		}
		if r, ok := secretRef(verifyIndex(path, i)+".valueFrom", v.Str); ok {
			refs = append(refs, r)
		}
	}
	return refs
}

// secretRef reads a valueFrom: a Secrets Manager ARN, an SSM parameter ARN,
// or else an SSM parameter name in the task's region, as ECS reads it.
func secretRef(path, s string) (verifyRef, bool) {
	if s == "" {
		return verifyRef{}, false
	}
	a, isARN := splitARN(s)
	if !isARN {
		if strings.HasPrefix(s, "arn:") {
			return verifyRef{}, false
		}
		if strings.HasSuffix(path, ".credentialsParameter") {
			return verifyRef{kind: verifySecret, path: path, id: s}, true
		}
		return verifyRef{kind: verifyParameter, path: path, id: s}, true
	}
	switch a.service {
	case "ssm":
		return verifyRef{kind: verifyParameter, path: path, id: s, region: a.region, account: a.account}, true
	case "secretsmanager":
		// secret:NAME-AbCdEf[:json-key:version-stage:version-id]: ECS reads
		// one key of one version, DescribeSecret wants the secret alone.
		kind, rest, _ := strings.Cut(a.resource, ":")
		name, _, _ := strings.Cut(rest, ":")
		if kind != "secret" || name == "" {
			return verifyRef{}, false
		}
		id := "arn:" + a.partition + ":secretsmanager:" + a.region + ":" + a.account + ":secret:" + name
		return verifyRef{kind: verifySecret, path: path, id: id, region: a.region, account: a.account}, true
	}
	return verifyRef{}, false
}

// logRefs reads an awslogs log configuration. A group that awslogs creates
// itself needs no lookup.
func logRefs(lc *Node, path string) []verifyRef {
	if lc == nil || lc.Kind != Object {
		return nil
	}
	refs := secretRefs(lc.Get("secretOptions"), path+".secretOptions")
	opts := lc.Get("options")
	if lc.GetString("logDriver") != "awslogs" || opts == nil {
		return refs
	}
	group := opts.GetString("awslogs-group")
	// The awslogs driver reads the option with strconv.ParseBool.
	if create, _ := strconv.ParseBool(opts.GetString("awslogs-create-group")); group == "" || create {
		return refs
	}
	return append(refs, verifyRef{kind: verifyLogGroup, path: path + ".options.awslogs-group", id: group, region: opts.GetString("awslogs-region")})
}

// taskPlatform maps runtimePlatform to the OCI platform an image must
// offer. ECS runs LINUX/X86_64 when runtimePlatform says nothing.
func taskPlatform(td *Node) Platform {
	rp := td.Get("runtimePlatform")
	p := Platform{OS: "linux", Architecture: "amd64"}
	if strings.HasPrefix(rp.GetString("operatingSystemFamily"), "WINDOWS") {
		p.OS = "windows"
	}
	if rp.GetString("cpuArchitecture") == "ARM64" {
		p.Architecture, p.Variant = "arm64", "v8"
	}
	return p
}

// verifyARN is an ARN split into its fields.
type verifyARN struct {
	partition, service, region, account, resource string
}

// splitARN splits an ARN without judging it; CheckTaskDefinition judges.
func splitARN(s string) (verifyARN, bool) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[5] == "" {
		return verifyARN{}, false
	}
	return verifyARN{partition: f[1], service: f[2], region: f[3], account: f[4], resource: f[5]}, true
}

// ecrImageAccount reports whether image is in a private ECR registry, the
// only place PlatformLookup can read, and the account that owns it. It
// implements the regexp
// ^([0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.[a-z0-9-]+\.on\.aws)/
// (the IPv4 hosts and the dual-stack ones) and returns its group, as a
// loop that a one-shot run need not compile.
func ecrImageAccount(image string) (string, bool) {
	account, rest, ok := strings.Cut(image, ".")
	if !ok || len(account) != 12 || !ascii.IsDigits(account) {
		return "", false
	}
	suffixes := []string{"amazonaws.com/", "amazonaws.com.cn/"}
	rest, ok = strings.CutPrefix(rest, "dkr.ecr")
	if !ok {
		if rest, ok = strings.CutPrefix(rest, "dkr-ecr"); !ok {
			return "", false
		}
		suffixes = []string{"on.aws/"}
	}
	rest, ok = strings.CutPrefix(strings.TrimPrefix(rest, "-fips"), ".")
	if !ok {
		return "", false
	}
	region, rest, ok := strings.Cut(rest, ".")
	if !ok || region == "" || strings.Trim(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return "", false
	}
	for _, suffix := range suffixes {
		if strings.HasPrefix(rest, suffix) {
			return account, true
		}
	}
	return "", false
}

func verifyIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
