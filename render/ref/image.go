package ref

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ecsrender/ecsrender/render/internal/ascii"
)

// ImageRef is a parsed container image reference, as written in a task
// definition's "image" or given with --image.
//
// The fields keep the user's own text: Registry is empty when the reference
// names none (Docker Hub is implied), and Repository is "nginx", not
// "library/nginx". That way String gives back exactly what was parsed, and
// a rendered task definition only changes where ecsrender meant to change it.
type ImageRef struct {
	// Registry is the host, with an optional port, e.g.
	// "123456789012.dkr.ecr.us-east-1.amazonaws.com" or "localhost:5000".
	Registry string
	// Repository is the slash-separated path inside the registry.
	Repository string
	// Tag is empty when the reference has none.
	Tag string
	// Digest is "sha256:" or "sha512:" and lowercase hex, or empty.
	Digest string
	// ECR is set when Registry is a private Amazon ECR registry, the only
	// kind ecsrender can resolve to a digest.
	ECR *ECRRegistry
}

// ECRRegistry is the account and region that a private Amazon ECR
// registry host encodes, so that a lookup needs no configuration beyond
// the image reference itself.
type ECRRegistry struct {
	// Account is the 12-digit AWS account ID, also ECR's registry ID.
	Account string
	Region  string
}

// The grammar follows github.com/distribution/reference, the one Docker,
// containerd and ECS agree on. Its regexps are written out as loops below,
// because a one-shot CLI compiles every regexp it touches in every run;
// matchers_test.go holds each regexp and checks that they agree.

// isPathComponent reports whether s is one component of a repository path,
// as the regexp ^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$ says: runs of
// lower-case letters and digits separated by one . or _, two _, or any
// number of dashes.
func isPathComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && isLowerOrDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
		if i == len(s) {
			return true
		}
		switch s[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(s) && s[i] == '_' {
				i++
			}
		case '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// isLowerOrDigit reports whether c is an ASCII lower-case letter or digit.
func isLowerOrDigit(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// isDomainComponent reports whether s is one dot-separated label of a
// registry host, as the regexp
// ^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$ says: letters,
// digits and dashes, not starting or ending with a dash.
func isDomainComponent(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isLetterOrDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// parseECRHostName returns the account and region of a lower-case private
// ECR host, ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn] or the
// dual-stack ACCOUNT.dkr-ecr[-fips].REGION.on.aws, as the groups of the
// regexp
// ^([0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.(R)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.(R)\.on\.aws)$
// with R = [a-z]{2,4}(?:-[a-z]+)+-[0-9]+ give them. The -fips hosts serve
// the same images as the plain ones.
func parseECRHostName(host string) (account, region string, ok bool) {
	account, rest, ok := strings.Cut(host, ".")
	if !ok || len(account) != 12 || !ascii.IsDigits(account) {
		return "", "", false
	}
	suffixes := []string{".amazonaws.com", ".amazonaws.com.cn"}
	if r, dualStack := strings.CutPrefix(rest, "dkr-ecr"); dualStack {
		rest, suffixes = r, []string{".on.aws"}
	} else if rest, ok = strings.CutPrefix(rest, "dkr.ecr"); !ok {
		return "", "", false
	}
	rest, ok = strings.CutPrefix(strings.TrimPrefix(rest, "-fips"), ".")
	if !ok {
		return "", "", false
	}
	// No region holds a dot, so the region ends at the first one.
	i := strings.IndexByte(rest, '.')
	if i < 0 || !isECRRegion(rest[:i]) || !slices.Contains(suffixes, rest[i:]) {
		return "", "", false
	}
	return account, rest[:i], true
}

// isECRRegion reports whether s is shaped like a region in an ECR host, as
// [a-z]{2,4}(?:-[a-z]+)+-[0-9]+ says: us-east-1, us-gov-west-1, eusc-de-east-1.
func isECRRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) < 2 || len(parts[0]) > 4 || !ascii.IsDigits(parts[len(parts)-1]) {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if !ascii.IsLower(p) {
			return false
		}
	}
	return true
}

// isTag reports whether s is an image tag: an ASCII letter, digit or _,
// then up to 127 letters, digits, _ . or -. A loop rather than the regexp
// ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$, whose counted repetition compiles
// into some 1,700 allocations that every image reference would wait for.
func isTag(s string) bool {
	if len(s) == 0 || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isLetterOrDigit(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// digestHexLen is the hex length of each digest algorithm that OCI
// registers, or 0. ECR only produces sha256; sha512 is accepted because it
// is valid, and anything else is refused because no registry ECS pulls
// from serves it.
func digestHexLen(alg string) int {
	switch alg {
	case "sha256":
		return 64
	case "sha512":
		return 128
	}
	return 0
}

// maxNameLen is the limit distribution/reference puts on registry plus
// repository.
const maxNameLen = 255

// maxRefLen is the longest reference that can be valid: a name, a tag of
// 128 and a sha512 digest. A longer one is refused before it is parsed,
// and its error quotes only its start, so that a megabyte "image" in a
// template gives a line of a log, not a megabyte of one.
const maxRefLen = maxNameLen + len(":") + 128 + len("@sha512:") + 128

// quoteRef quotes a reference for an error message, cut after its first
// 64 bytes when it is too long to be valid.
func quoteRef(s string) string {
	if len(s) <= maxRefLen {
		return strconv.Quote(s)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// ParseImageRef parses an image reference strictly, so that a typo fails
// here with a clear message rather than at deploy time as an ECS
// CannotPullContainerError.
//
// An error names the reference: "image \"Foo:1\": repository must be lowercase".
func ParseImageRef(s string) (ImageRef, error) {
	r, err := parseImageRef(s)
	if err != nil {
		return ImageRef{}, fmt.Errorf("image %s: %w", quoteRef(s), err)
	}
	return r, nil
}

func parseImageRef(s string) (ImageRef, error) {
	if s == "" {
		return ImageRef{}, errors.New("empty reference")
	}
	if len(s) > maxRefLen {
		return ImageRef{}, fmt.Errorf("reference is %d bytes, longer than any valid one (%d)", len(s), maxRefLen)
	}
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return ImageRef{}, errors.New("reference contains whitespace")
	}
	if p := Leftover(s); p != "" {
		return ImageRef{}, fmt.Errorf("unrendered placeholder %s", QuoteIfNeeded(p))
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return ImageRef{}, fmt.Errorf("a reference has no scheme: drop %q", s[:i+3])
	}
	if i := strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:/@[]", c))
	}); i >= 0 {
		c, _ := utf8.DecodeRuneInString(s[i:])
		return ImageRef{}, fmt.Errorf("invalid character %q", c)
	}

	var r ImageRef
	name := s
	if i := strings.IndexByte(s, '@'); i >= 0 {
		name, r.Digest = s[:i], s[i+1:]
		if err := checkDigest(r.Digest); err != nil {
			return ImageRef{}, err
		}
	}
	// A colon after the last slash starts the tag; one before it belongs to
	// the registry's port.
	if i := strings.LastIndexByte(name, ':'); i >= 0 && i > strings.LastIndexByte(name, '/') {
		name, r.Tag = name[:i], name[i+1:]
		if r.Tag == "" {
			return ImageRef{}, errors.New("empty tag after \":\"")
		}
		if !isTag(r.Tag) {
			return ImageRef{}, fmt.Errorf("invalid tag %q: want a letter, digit or _ then up to 127 letters, digits, _ . or -", r.Tag)
		}
	}
	if name == "" {
		return ImageRef{}, errors.New("empty repository")
	}

	// Docker's rule for whether the first component is a registry: it has a
	// dot or a port, is localhost, or has capitals (which no repository may).
	r.Repository = name
	if i := strings.IndexByte(name, '/'); i >= 0 {
		first := name[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
			r.Registry, r.Repository = first, name[i+1:]
			if err := checkRegistry(r.Registry); err != nil {
				return ImageRef{}, err
			}
		}
	} else if _, _, ok := parseECRHostName(strings.ToLower(name)); ok {
		// Valid by the grammar (docker.io/library/123456789012.dkr...) but
		// certainly a registry whose repository was left out.
		return ImageRef{}, fmt.Errorf("registry %s has no repository", name)
	}
	if err := checkRepository(r.Repository); err != nil {
		return ImageRef{}, err
	}
	if n := len(name); n > maxNameLen {
		return ImageRef{}, fmt.Errorf("name is %d characters, longer than %d", n, maxNameLen)
	}
	r.ECR = parseECRHost(r.Registry)
	return r, nil
}

func checkDigest(d string) error {
	if d == "" {
		return errors.New("empty digest after \"@\"")
	}
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return fmt.Errorf("invalid digest %q: want sha256:<64 hex digits>", d)
	}
	n := digestHexLen(alg)
	if n == 0 {
		return fmt.Errorf("invalid digest %q: unsupported algorithm %q (want sha256)", d, alg)
	}
	if len(hex) != n || strings.IndexFunc(hex, func(c rune) bool { return !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') }) >= 0 {
		return fmt.Errorf("invalid digest %q: want %s: and %d lowercase hex digits", d, alg, n)
	}
	return nil
}

func checkRegistry(reg string) error {
	host, port := reg, ""
	if strings.HasPrefix(reg, "[") {
		end := strings.IndexByte(reg, ']')
		if end < 0 {
			return fmt.Errorf("invalid registry %q: unclosed [", reg)
		}
		host, port = reg[:end+1], strings.TrimPrefix(reg[end+1:], ":")
		if reg[end+1:] != "" && !strings.HasPrefix(reg[end+1:], ":") {
			return fmt.Errorf("invalid registry %q", reg)
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() {
			return fmt.Errorf("invalid registry %q: bad IPv6 address", reg)
		}
	} else {
		if h, p, ok := strings.Cut(reg, ":"); ok {
			host, port = h, p
			if port == "" {
				return fmt.Errorf("invalid registry %q: empty port", reg)
			}
		}
		for c := range strings.SplitSeq(host, ".") {
			if !isDomainComponent(c) {
				return fmt.Errorf("invalid registry %q", reg)
			}
		}
	}
	if port != "" && !ascii.IsDigits(port) {
		return fmt.Errorf("invalid registry %q: port %q is not a number", reg, port)
	}
	return nil
}

func checkRepository(repo string) error {
	if repo == "" {
		return errors.New("empty repository")
	}
	if strings.ToLower(repo) != repo {
		return errors.New("repository must be lowercase")
	}
	for c := range strings.SplitSeq(repo, "/") {
		if c == "" {
			return fmt.Errorf("invalid repository %q: empty path component", repo)
		}
		if !isPathComponent(c) {
			return fmt.Errorf("invalid repository %q: component %q must be lowercase letters and digits, separated by one . or _, two _, or dashes", repo, c)
		}
	}
	return nil
}

// parseECRHost returns the registry a private ECR host names, or nil.
// Host names are case-insensitive, so a capitalised host is still ECR.
func parseECRHost(reg string) *ECRRegistry {
	host := strings.ToLower(reg)
	if h, p, ok := strings.Cut(host, ":"); ok && p == "443" {
		host = h
	}
	account, region, ok := parseECRHostName(host)
	if !ok {
		return nil
	}
	return &ECRRegistry{Account: account, Region: region}
}

// String returns the reference as written: parsing and printing round-trip.
func (r ImageRef) String() string {
	var b strings.Builder
	if r.Registry != "" {
		b.WriteString(r.Registry)
		b.WriteByte('/')
	}
	b.WriteString(r.Repository)
	if r.Tag != "" {
		b.WriteByte(':')
		b.WriteString(r.Tag)
	}
	if r.Digest != "" {
		b.WriteByte('@')
		b.WriteString(r.Digest)
	}
	return b.String()
}

// WithDigest returns the reference pinned to digest d. The tag is dropped:
// ECS pulls by digest alone when both are given, and a tag next to a digest
// suggests the tag still matters.
func (r ImageRef) WithDigest(d string) ImageRef {
	r.Tag, r.Digest = "", d
	return r
}
