package render

import (
	"fmt"
	"strconv"

	"github.com/ecsrender/ecsrender/render/ref"
)

// The limits below are the ones the ECS API reference states for
// RegisterTaskDefinition. ECS refuses a value outside them at registration,
// which in a pipeline is ten minutes into a CodeDeploy deployment; checked
// here, the build fails with the JSON path instead.
var (
	healthCheckLimits = []fieldLimit{
		{"interval", 5, 300, "seconds"},
		{"timeout", 2, 60, "seconds"},
		{"retries", 1, 10, "retries"},
		{"startPeriod", 0, 300, "seconds"},
	}
	containerPortLimit    = fieldLimit{"containerPort", 1, 65535, ""}
	hostPortLimit         = fieldLimit{"hostPort", 0, 65535, ""}
	ephemeralStorageLimit = fieldLimit{"sizeInGiB", 21, 200, "GiB"}
	// ECS documents 120 s as the most a Fargate task waits; on EC2 the
	// agent takes any value, so only the sign is checked there.
	fargateStopTimeoutLimit = fieldLimit{"stopTimeout", 0, 120, "seconds on fargate"}
	ec2StopTimeoutLimit     = fieldLimit{"stopTimeout", 0, 1<<31 - 1, "seconds"}
	// Fargate raises the nofile hard limit to at most 1048576; other
	// ulimits are not adjustable there beyond what Docker allows.
	fargateNofileLimit = 1048576
)

// fieldLimit is an inclusive range for an integer member.
type fieldLimit struct {
	key     string
	lo, hi  int64
	unitMsg string
}

// checkLimit reports obj[key] when it is a whole number outside the range. A
// value of the wrong type was already reported by walk.
func (c *checker) checkLimit(obj *Node, objPath string, l fieldLimit) {
	n := obj.Get(l.key)
	if n == nil || n.Kind != Number {
		return
	}
	v, err := strconv.ParseInt(n.Str, 10, 64)
	if err != nil || (v >= l.lo && v <= l.hi) {
		return
	}
	unit := ""
	if l.unitMsg != "" {
		unit = " " + l.unitMsg
	}
	c.errorf(joinPath(objPath, l.key), "%s is out of range; ecs accepts %d to %d%s", n.Str, l.lo, l.hi, unit)
}

// limits checks the documented ranges and the container rules that depend
// on the launch type or the network mode.
func (c *checker) limits(containers []container) {
	fargate, _ := c.compatibilities()
	if es := c.td.Get("ephemeralStorage"); es != nil && es.Kind == Object {
		c.checkLimit(es, "ephemeralStorage", ephemeralStorageLimit)
	}
	awsvpc := c.td.GetString("networkMode") == "awsvpc"
	for _, ct := range containers {
		if hc := ct.n.Get("healthCheck"); hc != nil && hc.Kind == Object {
			for _, l := range healthCheckLimits {
				c.checkLimit(hc, joinPath(ct.path, "healthCheck"), l)
			}
		}
		forEachObject(ct.n, "portMappings", ct.path, func(path string, pm *Node) {
			c.checkLimit(pm, path, containerPortLimit)
			c.checkLimit(pm, path, hostPortLimit)
		})
		if fargate {
			c.checkLimit(ct.n, ct.path, fargateStopTimeoutLimit)
		} else {
			c.checkLimit(ct.n, ct.path, ec2StopTimeoutLimit)
		}
		c.ulimits(ct, fargate)
		if l := ct.n.Get("links"); awsvpc && l != nil && l.Kind == Array && len(l.Items) > 0 {
			c.errorf(joinPath(ct.path, "links"), "not supported with networkMode \"awsvpc\"; containers of the task reach each other on localhost")
		}
	}
	c.ecrPullRole(containers, fargate)
}

// ulimits requires softLimit <= hardLimit, both non-negative, as Docker does,
// and on Fargate the nofile ceiling that Fargate documents.
func (c *checker) ulimits(ct container, fargate bool) {
	forEachObject(ct.n, "ulimits", ct.path, func(path string, u *Node) {
		soft, softOK := wholeNumber(u.Get("softLimit"))
		hard, hardOK := wholeNumber(u.Get("hardLimit"))
		if softOK && soft < 0 {
			c.errorf(joinPath(path, "softLimit"), "%d is negative; want 0 or more", soft)
		}
		if hardOK && hard < 0 {
			c.errorf(joinPath(path, "hardLimit"), "%d is negative; want 0 or more", hard)
		}
		if softOK && hardOK && soft >= 0 && soft > hard {
			c.errorf(joinPath(path, "softLimit"), "%d is more than hardLimit %d; want at most hardLimit", soft, hard)
		}
		if fargate && u.GetString("name") == "nofile" && hardOK && hard > int64(fargateNofileLimit) {
			c.errorf(joinPath(path, "hardLimit"), "%d is out of range; fargate accepts a nofile hardLimit up to %d", hard, fargateNofileLimit)
		}
	})
}

// ecrPullRole: a Fargate task pulls a private ECR image with its execution
// role; without one the task stops with CannotPullContainerError.
func (c *checker) ecrPullRole(containers []container, fargate bool) {
	if !fargate || c.td.Get("executionRoleArn") != nil {
		return
	}
	for _, ct := range containers {
		img := ct.n.Get("image")
		if img == nil || img.Kind != String {
			continue
		}
		if r, err := ref.ParseImageRef(img.Str); err == nil && r.ECR != nil {
			c.errorf(joinPath(ct.path, "image"), "fargate pulls an ecr image with the task's executionRoleArn, which is not set")
		}
	}
}

// wholeNumber reads an integer Number node.
func wholeNumber(n *Node) (int64, bool) {
	if n == nil || n.Kind != Number {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Str, 10, 64)
	return v, err == nil
}

// NormalizeTaskSize rewrites task-level cpu and memory written as JSON
// numbers into the strings that ECS's model wants ("cpu": 256 becomes
// "cpu": "256"): RegisterTaskDefinition refuses a number there, and the
// intent is plain. It returns a notice for each value it changed.
func NormalizeTaskSize(td *Node) []string {
	if td == nil || td.Kind != Object {
		return nil
	}
	var notices []string
	for _, key := range []string{"cpu", "memory"} {
		n := td.Get(key)
		if n == nil || n.Kind != Number {
			continue
		}
		td.Set(key, NewString(n.Str))
		notices = append(notices, fmt.Sprintf("%s: the number %s is written as the string %q, as ecs wants", key, n.Str, n.Str))
	}
	return notices
}
