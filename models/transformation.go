package models

import (
	"github.com/uptrace/bun"
)

// Transformation is a named image preset of an account.
type Transformation struct {
	bun.BaseModel `bun:"table:transformations"`

	AccountID     string `bun:"account_id,pk"`
	Name          string `bun:"name,pk"`
	Width         int    `bun:"width,notnull"`
	Height        int    `bun:"height,notnull"`
	Fit           string `bun:"fit,notnull"`
	Format        string `bun:"format,notnull"`
	Quality       int    `bun:"quality,notnull"`
	StripMetadata bool   `bun:"strip_metadata,notnull"`
	AutoRotate    bool   `bun:"auto_rotate,notnull"`
	Version       int    `bun:"version,notnull"`
	CreatedAt     int64  `bun:"created_at,notnull"`
	UpdatedAt     int64  `bun:"updated_at,notnull"`
}

// Job statuses.
const (
	JobPending = "pending"
	JobRunning = "running"
	JobReady   = "ready"
	JobFailed  = "failed"
)

// TransformJob is the durable state of one file's render of one preset.
type TransformJob struct {
	bun.BaseModel `bun:"table:transform_jobs"`

	FileID    string `bun:"file_id,pk"`
	Name      string `bun:"name,pk"`
	AccountID string `bun:"account_id,notnull"`
	Version   int    `bun:"version,notnull"`
	Status    string `bun:"status,notnull"`
	ClaimedAt *int64 `bun:"claimed_at"`
	Attempts  int    `bun:"attempts,notnull"`
	Error     string `bun:"error,notnull"`
	Width     int    `bun:"width,notnull"`
	Height    int    `bun:"height,notnull"`
	Size      int64  `bun:"size,notnull"`
	Mime      string `bun:"mime,notnull"`
	CreatedAt int64  `bun:"created_at,notnull"`
	UpdatedAt int64  `bun:"updated_at,notnull"`
}

// ListTransformations returns the account's presets by name.
func ListTransformations(c ctx, db bun.IDB, accountID string) ([]Transformation, error) {
	ts := []Transformation{}
	err := db.NewSelect().Model(&ts).Where("account_id = ?", accountID).Order("name ASC").Scan(c)
	return ts, err
}

// GetTransformation loads one preset.
func GetTransformation(c ctx, db bun.IDB, accountID, name string) (*Transformation, error) {
	t := new(Transformation)
	err := db.NewSelect().Model(t).Where("account_id = ?", accountID).Where("name = ?", name).Scan(c)
	return t, notFound(err)
}

// InsertTransformation inserts t.
func InsertTransformation(c ctx, db bun.IDB, t *Transformation) error {
	_, err := db.NewInsert().Model(t).Exec(c)
	return err
}

// UpdateTransformation stores t's settings and bumps its version.
func UpdateTransformation(c ctx, db bun.IDB, t *Transformation) (bool, error) {
	res, err := db.NewUpdate().Model(t).
		Column("width", "height", "fit", "format", "quality", "strip_metadata", "auto_rotate", "updated_at").
		Set("version = version + 1").
		WherePK().Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// BumpTransformation raises a preset's version (clearing its cache).
func BumpTransformation(c ctx, db bun.IDB, accountID, name string, atUs int64) (*Transformation, error) {
	if _, err := db.NewUpdate().Model((*Transformation)(nil)).Set("version = version + 1").Set("updated_at = ?", atUs).
		Where("account_id = ?", accountID).Where("name = ?", name).Exec(c); err != nil {
		return nil, err
	}
	return GetTransformation(c, db, accountID, name)
}

// DeleteTransformation deletes a preset; false when there was none.
func DeleteTransformation(c ctx, db bun.IDB, accountID, name string) (bool, error) {
	res, err := db.NewDelete().Model((*Transformation)(nil)).Where("account_id = ?", accountID).Where("name = ?", name).Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// GetJob loads one job.
func GetJob(c ctx, db bun.IDB, fileID, name string) (*TransformJob, error) {
	j := new(TransformJob)
	err := db.NewSelect().Model(j).Where("file_id = ?", fileID).Where("name = ?", name).Scan(c)
	return j, notFound(err)
}

// GetJobs loads the jobs among (fileID, name) pairs, keyed "fileID/name".
func GetJobs(c ctx, db bun.IDB, fileIDs []string) ([]TransformJob, error) {
	var js []TransformJob
	if len(fileIDs) == 0 {
		return js, nil
	}
	err := db.NewSelect().Model(&js).Where("file_id IN (?)", bun.In(fileIDs)).Scan(c)
	return js, err
}

// UpsertJob writes j whatever was there.
func UpsertJob(c ctx, db bun.IDB, j *TransformJob) error {
	_, err := db.NewInsert().Model(j).On("CONFLICT (file_id, name) DO UPDATE").
		Set("account_id = EXCLUDED.account_id").Set("version = EXCLUDED.version").Set("status = EXCLUDED.status").
		Set("claimed_at = EXCLUDED.claimed_at").Set("attempts = EXCLUDED.attempts").Set("error = EXCLUDED.error").
		Set("width = EXCLUDED.width").Set("height = EXCLUDED.height").Set("size = EXCLUDED.size").
		Set("mime = EXCLUDED.mime").Set("updated_at = EXCLUDED.updated_at").Exec(c)
	return err
}

// ClaimJob moves a pending job to running; false when someone else has it.
func ClaimJob(c ctx, db bun.IDB, fileID, name string, atUs int64) (bool, error) {
	res, err := db.NewUpdate().Model((*TransformJob)(nil)).Set("status = ?", JobRunning).Set("claimed_at = ?", atUs).
		Set("attempts = attempts + 1").Set("updated_at = ?", atUs).
		Where("file_id = ?", fileID).Where("name = ?", name).Where("status = ?", JobPending).Exec(c)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ListPendingJobs returns up to limit pending jobs, oldest first.
func ListPendingJobs(c ctx, db bun.IDB, limit int64) ([]TransformJob, error) {
	var js []TransformJob
	err := db.NewSelect().Model(&js).Where("status = ?", JobPending).Order("created_at ASC").Limit(limit).Scan(c)
	return js, err
}

// RequeueStaleJobs puts back running jobs claimed before cutoffUs (a worker
// died) and returns how many.
func RequeueStaleJobs(c ctx, db bun.IDB, cutoffUs int64) (int64, error) {
	res, err := db.NewUpdate().Model((*TransformJob)(nil)).Set("status = ?", JobPending).
		Where("status = ?", JobRunning).Where("claimed_at < ?", cutoffUs).Exec(c)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteJobsOfPreset deletes a preset's jobs and returns their file IDs.
func DeleteJobsOfPreset(c ctx, db bun.IDB, accountID, name string) ([]string, error) {
	var ids []string
	err := db.NewDelete().Model((*TransformJob)(nil)).Where("account_id = ?", accountID).Where("name = ?", name).
		Returning("file_id").Scan(c, &ids)
	return ids, err
}

// DeleteJobsOfFiles deletes the jobs of files.
func DeleteJobsOfFiles(c ctx, db bun.IDB, fileIDs []string) error {
	if len(fileIDs) == 0 {
		return nil
	}
	_, err := db.NewDelete().Model((*TransformJob)(nil)).Where("file_id IN (?)", bun.In(fileIDs)).Exec(c)
	return err
}
