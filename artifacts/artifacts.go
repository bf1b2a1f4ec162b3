// Package artifacts writes the files that CodePipeline's deploy actions
// read: their names, their formats, and writing them all or nothing.
//
// A file's name may hold sub-directories of the output directory DIR,
// slash-separated ("IMAGE2_NAME/imageDetail.json", "web/taskdef.json"),
// so that CodeBuild can publish each directory as its own artifact. Write
// keeps these promises about DIR and every sub-directory it writes into:
//
//   - One writer at a time. Write holds an exclusive flock(2) on DIR itself
//     (no lock file is created) for the whole write, sub-directories
//     included. A second ecsrender writing into the same DIR waits for as
//     long as its context allows (the run's --timeout, a signal) and then
//     fails with "another ecsrender is writing to DIR", so DIR never holds
//     a mix of two runs. On systems without flock (not the release
//     targets) there is no lock.
//   - Only names that stay inside DIR. A name is clean, relative, with no
//     empty, "." or ".." element; its last element is an artifact name and
//     no directory element is one or starts with a dot. Any other name
//     fails the run before anything is touched.
//   - All or nothing, across every file in every sub-directory. Missing
//     sub-directories are created under the lock. Every file is written
//     completely and closed under a temporary name (".NAME.RANDOM.tmp"
//     beside it, created exclusively, so two runs cannot share one)
//     before the first rename. If any step fails, every file already
//     renamed is put back as it was, earlier files that were moved aside
//     are restored, the temporary files are removed, and the
//     sub-directories this run created are removed. A step of that
//     rollback that fails is reported in the returned error, one line
//     each, after the failure that caused it. Temporary files that a
//     killed run left behind are removed under the lock before writing,
//     in each directory written into.
//   - Whole files, against any failure of the process; not durability
//     against a crash of the machine. Whatever ends the run (an error, a
//     signal, the deadline, kill -9 at any point), no artifact in DIR is
//     ever part of a file: each is an earlier run's or this run's
//     complete one, because rename(2) is atomic in the kernel's page
//     cache. The failures the process sees are rolled back as above;
//     after a kill -9 the next run into the same directory removes the
//     temporary and backup files left there. Nothing is fsynced, so
//     after a power loss or a kernel crash files written shortly before
//     may be empty, old or missing. Nobody reads DIR then: it is the
//     input of the next step in the same CodeBuild container (or a dry
//     run's output), and a build whose host crashes is thrown away and
//     run again. The fsyncs were 3 to 5 ms of a 10 to 35 ms render on
//     ext4, more when other builds write; Go, Terraform, kubectl and
//     helm do not fsync their outputs either.
//   - Exactly this run's artifacts, in each directory it writes into.
//     After a success every directory that received a file holds the
//     files this run wrote and no other artifact: a file with an artifact
//     name (taskdef.json, appspec.yaml, imageDetail.json,
//     imagedefinitions.json) that this run did not write is an earlier
//     run's, and the pipeline would publish it, so it is moved aside
//     before the renames, deleted after success and restored on failure.
//     A directory this run writes nothing into is not looked at: it may
//     hold another service's artifacts.
//   - Nothing else is touched. Write only creates, replaces or removes the
//     artifact names above, its own ".NAME..." temporary and backup files
//     and the sub-directories it created; any other file is left alone. A
//     directory where an earlier artifact would be, or a file or link
//     where a sub-directory would be, is not ecsrender's to remove, so the
//     run fails instead.
package artifacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ecsrender/ecsrender/render"
)

// The artifact file names, as the deploy actions are configured to read them.
const (
	// TaskDefFile is CodeDeployToECS's TaskDefinitionTemplatePath.
	TaskDefFile = "taskdef.json"
	// AppSpecFile is CodeDeployToECS's AppSpecTemplatePath.
	AppSpecFile = "appspec.yaml"
	// ImageDetailFile is what CodeDeployToECS reads through
	// Image1ArtifactName..Image4ArtifactName, one input artifact each.
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
//
// The files are taskdef.json, appspec.yaml when there is an AppSpec,
// imageDetail.json when there is an image to describe,
// imagedefinitions.json when it has an entry, and with more than one
// placeholder TOKEN/imageDetail.json for each.
func Encode(r *render.Result) ([]File, error) {
	files := []File{{TaskDefFile, r.TaskDef.MarshalIndent()}}
	var details []File
	if r.AppSpec != nil {
		b, err := EncodeAppSpec(r.AppSpec)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", AppSpecFile, err)
		}
		files = append(files, File{AppSpecFile, b})
	}
	// CodeDeployToECS reads each image from its own input artifact, so
	// with several placeholders each token's imageDetail.json also goes
	// into a directory of its own that CodeBuild publishes as a secondary
	// artifact; DIR/imageDetail.json stays the first one's, so that
	// pipelines with one image artifact keep working unchanged.
	for i, d := range r.ImageDetails {
		b, err := encodeImageDetail(d)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ImageDetailFile, err)
		}
		if i == 0 {
			files = append(files, File{ImageDetailFile, b})
		}
		if len(r.ImageDetails) > 1 && d.Token != "" {
			details = append(details, File{d.Token + "/" + ImageDetailFile, b})
		}
	}
	// The Amazon ECS action rejects an empty list; render says in a
	// notice why there is none.
	if len(r.ImageDefinitions) > 0 {
		b, err := encodeImageDefinitions(r.ImageDefinitions)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", ImageDefinitionsFile, err)
		}
		if len(b) > MaxImageDefinitionsSize {
			return nil, &render.InputError{Err: fmt.Errorf("%s would be %d bytes; the Amazon ECS deploy action reads at most %d", ImageDefinitionsFile, len(b), MaxImageDefinitionsSize)}
		}
		files = append(files, File{ImageDefinitionsFile, b})
	}
	files = append(files, details...)
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
