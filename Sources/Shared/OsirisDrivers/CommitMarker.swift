/// The proof that an append committed, kept in the target database itself (DESIGN.md §7.4, `--resume`).
///
/// `postgres.writer`, `supabase.writer`, `mysql.writer` and `sqlite.writer` in `write_mode: append`
/// insert one row into the table `osiris_commits` (in the target table's schema or database, created
/// when missing) in the same transaction as the appended rows: the run id, the step id, the manifest
/// fingerprint, the target table, the rows written and the server's time. Nothing else, never a
/// secret. On `--resume` the runner asks the writer of a step that status.json does not record as
/// committed (a kill between the server's COMMIT and status.json) whether its marker is there, and
/// skips it when it is. Replace, upsert and truncate are idempotent: they run again and record nothing.
/// The key is (run_id, step_id), so even a second append of the same run and step would fail instead
/// of adding the rows twice.
package enum CommitMarker {
    /// The bookkeeping table's name.
    package static let table = "osiris_commits"

    /// Its columns, for the PostgreSQL writer.
    package static let postgreSQLColumns = """
        run_id text NOT NULL, step_id text NOT NULL, manifest_fp text NOT NULL, target_table text NOT NULL, \
        rows_written bigint NOT NULL, committed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, step_id)
        """

    /// Its columns, for the MariaDB/MySQL writer (InnoDB, so it commits with the rows).
    package static let mySQLColumns = """
        run_id VARCHAR(64) NOT NULL, step_id VARCHAR(255) NOT NULL, manifest_fp VARCHAR(100) NOT NULL, \
        target_table VARCHAR(255) NOT NULL, rows_written BIGINT NOT NULL, \
        committed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (run_id, step_id)
        """

    /// Its columns, for the SQLite writer.
    package static let sqliteColumns = """
        run_id TEXT NOT NULL, step_id TEXT NOT NULL, manifest_fp TEXT NOT NULL, target_table TEXT NOT NULL, \
        rows_written INTEGER NOT NULL, committed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), \
        PRIMARY KEY (run_id, step_id)
        """

    /// Whether `context`'s write records a marker: an append inside a run.
    package static func isRecorded(_ context: StepContext, mode: String) -> Bool {
        mode == "append" && context.runID != nil
    }

    /// The error of a marker that cannot be created or written, naming the table and what to do.
    package static func unavailable(_ name: String, _ reason: String) -> StepError {
        StepError(.configuration, """
            write_mode append records its commit in table '\(name)' (for --resume), and \(reason); \
            create it once with a user that may, and grant this one SELECT and INSERT on it (osiris-components(7), commit markers)
            """)
    }
}
