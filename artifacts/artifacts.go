// Package artifacts writes the files that CodePipeline's deploy actions
// read: their names, their formats, and writing them so that a failed run
// leaves none of them behind half-written.
package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ecsrender/ecsrender/render"
)

// The artifact file names, as the deploy actions are configured to read them.
const (
	// TaskDefFile is CodeDeployToECS's TaskDefinitionTemplatePath.
	TaskDefFile = "taskdef.json"
	// AppSpecFile is CodeDeployToECS's AppSpecTemplatePath.
	AppSpecFile = "appspec.yaml"
	// ImageDetailFile is what CodeDeployToECS reads through Image1ArtifactName.
	ImageDetailFile = "imageDetail.json"
	// ImageDefinitionsFile is the Amazon ECS (rolling) action's FileName.
	ImageDefinitionsFile = "imagedefinitions.json"
)

// MaxImageDefinitionsSize is the Amazon ECS deploy action's limit on
// imagedefinitions.json.
const MaxImageDefinitionsSize = 100 * 1000

// File is one encoded artifact.
type File struct {
	Name string
	Data []byte
}

// Encode turns a render result into artifact files, in the order they are
// written. Encoding everything first means no file is touched unless all of
// them could be made.
func Encode(r *render.Result) ([]File, error) {
	files := []File{{TaskDefFile, r.TaskDef.MarshalIndent()}}
	if r.AppSpec != nil {
		b, err := EncodeAppSpec(r.AppSpec)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", AppSpecFile, err)
		}
		files = append(files, File{AppSpecFile, b})
	}
	// An empty ImageDetail means the primary container's image is a
	// placeholder another artifact fills; render says so in a notice.
	if r.ImageDetail.ImageURI != "" {
		b, err := encodeImageDetail(r.ImageDetail)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ImageDetailFile, err)
		}
		files = append(files, File{ImageDetailFile, b})
	}
	b, err := encodeImageDefinitions(r.ImageDefinitions)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ImageDefinitionsFile, err)
	}
	if len(b) > MaxImageDefinitionsSize {
		return nil, &render.InputError{Err: fmt.Errorf("%s would be %d bytes; the Amazon ECS deploy action reads at most %d", ImageDefinitionsFile, len(b), MaxImageDefinitionsSize)}
	}
	files = append(files, File{ImageDefinitionsFile, b})
	return files, nil
}

// imageDetail has the keys and value forms of the imageDetail.json that
// CodePipeline's ECR source action writes (sizes as strings, the push time
// in the form of Java's Date.toString), so that a pipeline can swap that
// action for ecsrender without touching its deploy action.
type imageDetail struct {
	ImageURI         string   `json:"ImageURI"`
	ImageDigest      string   `json:"ImageDigest,omitempty"`
	ImageTags        []string `json:"ImageTags,omitempty"`
	RegistryID       string   `json:"RegistryId,omitempty"`
	RepositoryName   string   `json:"RepositoryName,omitempty"`
	ImagePushedAt    string   `json:"ImagePushedAt,omitempty"`
	ImageSizeInBytes string   `json:"ImageSizeInBytes,omitempty"`
	Version          string   `json:"Version,omitempty"`
}

func encodeImageDetail(d render.ImageDetail) ([]byte, error) {
	out := imageDetail{ImageURI: d.ImageURI}
	if d.ImageDigest != "" {
		out.ImageDigest = d.ImageDigest
		out.ImageTags = d.ImageTags
		out.RegistryID = d.RegistryID
		out.RepositoryName = d.RepositoryName
		if !d.ImagePushedAt.IsZero() {
			out.ImagePushedAt = d.ImagePushedAt.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
		}
		out.ImageSizeInBytes = strconv.FormatInt(d.ImageSizeInBytes, 10)
		out.Version = "1.0"
	}
	return encodeJSON(out)
}

type imageDefinition struct {
	Name     string `json:"name"`
	ImageURI string `json:"imageUri"`
}

func encodeImageDefinitions(defs []render.ImageDefinition) ([]byte, error) {
	out := make([]imageDefinition, len(defs))
	for i, d := range defs {
		out[i] = imageDefinition{d.Name, d.ImageURI}
	}
	return encodeJSON(out)
}

// encodeJSON indents by two spaces and leaves <, > and & alone: the
// artifacts hold placeholders such as <IMAGE1_NAME> that must stay literal.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write puts files into dir, creating it if needed. Each file is written
// to a temporary name beside its target and renamed into place only after
// all of them were written and synced, so readers never see a partial
// file. If a rename fails, the files already renamed are put back as they
// were, so a failed run leaves no artifact it created or changed.
func Write(dir string, files []File) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	var temps []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(dir, f)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return err
		}
	}

	type done struct{ target, backup string }
	var renamed []done
	defer func() {
		if err == nil {
			for _, d := range renamed {
				if d.backup != "" {
					os.Remove(d.backup)
				}
			}
			return
		}
		for i := len(renamed) - 1; i >= 0; i-- {
			d := renamed[i]
			if d.backup != "" {
				os.Rename(d.backup, d.target)
			} else {
				os.Remove(d.target)
			}
		}
	}()
	for i, f := range files {
		target := filepath.Join(dir, f.Name)
		backup := ""
		if _, statErr := os.Lstat(target); statErr == nil {
			// A hard link keeps the old file reachable for a rollback
			// without copying it.
			backup = target + ".ecsrender-old"
			os.Remove(backup)
			if err := os.Link(target, backup); err != nil {
				return fmt.Errorf("write %s: keep the old file for a rollback: %w", target, linkCause(err))
			}
		}
		if err := os.Rename(temps[i], target); err != nil {
			if backup != "" {
				os.Remove(backup)
			}
			return fmt.Errorf("write %s: %w", target, linkCause(err))
		}
		renamed = append(renamed, done{target, backup})
	}
	temps = nil
	syncDir(dir)
	return nil
}

func writeTemp(dir string, f File) (string, error) {
	target := filepath.Join(dir, f.Name)
	t, err := os.CreateTemp(dir, "."+f.Name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", target, unwrapPath(err))
	}
	name := t.Name()
	if _, err := t.Write(f.Data); err != nil {
		t.Close()
		return name, fmt.Errorf("write %s: %w", target, unwrapPath(err))
	}
	if err := t.Sync(); err != nil {
		t.Close()
		return name, fmt.Errorf("write %s: %w", target, unwrapPath(err))
	}
	if err := t.Close(); err != nil {
		return name, fmt.Errorf("write %s: %w", target, unwrapPath(err))
	}
	// CreateTemp makes files 0600; artifacts are read by other tools.
	if err := os.Chmod(name, 0o644); err != nil {
		return name, fmt.Errorf("write %s: %w", target, unwrapPath(err))
	}
	return name, nil
}

// unwrapPath drops the *os.PathError wrapper, whose temporary file name
// would only confuse: the message already names the target.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// linkCause drops the *os.LinkError wrapper, whose two paths repeat the
// target the message already names.
func linkCause(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// syncDir makes the renames durable. Failure is not reported: the files
// are complete either way, and some file systems refuse to sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
