import Foundation
import Testing

/// An append must never run twice on `--resume`: the writer records (run id, step id) in
/// `osiris_commits` in the transaction of its rows, and `--resume` asks for it when status.json does
/// not say the step committed (osiris-exec killed between the server's COMMIT and status.json).
enum AppendResume {
    /// Writes `connections` as ro.yaml, the test input and a pipeline appending it through `component`
    /// with `config`, compiles it and runs it once in `folder`: what a user with limited rights sees.
    static func runAppend(_ component: String, config: String, in folder: URL, connections: String) throws -> ToolHarness.Run {
        try Data(connections.utf8).write(to: folder.appendingPathComponent("ro.yaml"))
        try Data(input.utf8).write(to: folder.appendingPathComponent("in.csv"))
        let target = Target(component: component, config: config, rows: { 0 }, markers: { _ in 0 })
        try Data(oml(target).utf8).write(to: folder.appendingPathComponent("p.oml"))
        let compile = try ToolHarness.run("oml-compile", ["--connections", "ro.yaml", "p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "oml-compile: \(compile.stderr)")
        return try ToolHarness.run("osiris-exec", ["--connections", "ro.yaml", "--run-dir", "runs", "p.manifest.json"], in: folder)
    }

    /// What one target looks like from outside: its row count and its commit markers of a run.
    struct Target {
        /// The writer component.
        var component: String
        /// The writer's config, as OML flow mapping content.
        var config: String
        /// The target table's row count.
        var rows: () throws -> Int
        /// The marker rows of a run id for step `load`.
        var markers: (String) throws -> Int
    }

    static let input = "id,v\n1,one\n2,two\n3,three\n"

    /// The pipeline: a CSV file appended to the target.
    static func oml(_ target: Target) -> String {
        """
        oml_version: "0.1.0"
        name: append-resume
        steps:
          - {id: extract, component: filesystem.csv_extractor, mode: read, config: {path: in.csv}}
          - {id: load, component: \(target.component), mode: write, needs: [extract], config: {\(target.config)}}

        """
    }

    /// Runs the three cases in `folder`: an append leaves exactly one marker; a run whose status.json
    /// was put back to its state before the commit (as a kill would leave it) is resumed without
    /// appending anything, exit 0; a new run of the manifest (not --resume) appends again.
    static func check(_ target: Target, in folder: URL, connections: [String] = []) throws {
        try Data(input.utf8).write(to: folder.appendingPathComponent("in.csv"))
        try Data(oml(target).utf8).write(to: folder.appendingPathComponent("p.oml"))
        let compile = try ToolHarness.run("oml-compile", connections + ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "oml-compile: \(compile.stderr)")
        func exec(_ arguments: [String]) throws -> ToolHarness.Run {
            try ToolHarness.run("osiris-exec", connections + ["p.manifest.json"] + arguments, in: folder)
        }

        let first = try exec(["--run-dir", "runs"])
        try #require(first.status == 0, "\(first.stderr)")
        let runID = try #require(try ToolHarness.jsonLines(first.stdout).first?["run_id"] as? String)
        #expect(try target.rows() == 3)
        #expect(try target.markers(runID) == 1)

        // The state a SIGKILL right after the server's COMMIT leaves: the step running, not committed.
        let statusURL = folder.appendingPathComponent("runs/\(runID)/status.json")
        var status = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: statusURL)) as? [String: Any])
        var steps = try #require(status["steps"] as? [String: Any])
        steps["load"] = ["state": "running", "committed": false, "attempts": 1, "rows_read": 0, "rows_written": 0]
        status["steps"] = steps
        status["status"] = "running"
        try JSONSerialization.data(withJSONObject: status).write(to: statusURL)

        let resumed = try exec(["--resume", "runs/\(runID)"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let events = try ToolHarness.jsonLines(resumed.stdout)
        let load = events.filter { $0["step_id"] as? String == "load" }
        #expect(load.map { $0["event"] as? String } == ["step_skipped"])
        #expect(load.first?["reason"] as? String == "resumed")
        #expect(events.last?["rows_written"] as? Int == 0)
        #expect(try target.rows() == 3)
        #expect(try target.markers(runID) == 1)
        let after = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: statusURL)) as? [String: Any])
        #expect((after["steps"] as? [String: Any]).flatMap { $0["load"] as? [String: Any] }?["committed"] as? Bool == true)

        // Another run of the manifest is a new run id: it appends again, with its own marker.
        let again = try exec(["--run-dir", "runs"])
        #expect(again.status == 0, "\(again.stderr)")
        let againID = try #require(try ToolHarness.jsonLines(again.stdout).first?["run_id"] as? String)
        #expect(againID != runID)
        #expect(try target.rows() == 6)
        #expect(try target.markers(againID) == 1)
        #expect(try target.markers(runID) == 1)
    }
}

/// The SQLite writer's append and `--resume`, with no server.
@Suite struct AppendResumeSQLiteTests {
    private let temporary = ExecTestFolder()
    var folder: URL { temporary.url }

    func sqlite(_ sql: String) throws -> String {
        let run = try ToolHarness.run(ExecCommandTests.sqlite3, [folder.appendingPathComponent("out.db").path, sql])
        try #require(run.status == 0, "sqlite3: \(run.stderr)")
        return run.stdout.trimmingCharacters(in: .newlines)
    }

    @Test func aCommittedAppendIsNotRepeatedByResume() throws {
        let target = AppendResume.Target(
            component: "sqlite.writer", config: "path: out.db, table: t, write_mode: append",
            rows: { Int(try sqlite("SELECT count(*) FROM t")) ?? -1 },
            markers: { Int(try sqlite("SELECT count(*) FROM osiris_commits WHERE run_id = '\($0)' AND step_id = 'load'")) ?? -1 })
        try AppendResume.check(target, in: folder)
        #expect(try sqlite("SELECT DISTINCT target_table || ' ' || rows_written FROM osiris_commits") == "t 3")
    }

    /// Replace is idempotent: it records no marker (and --resume runs it again).
    @Test func aReplaceRecordsNoMarker() throws {
        try Data(AppendResume.input.utf8).write(to: folder.appendingPathComponent("in.csv"))
        let target = AppendResume.Target(component: "sqlite.writer", config: "path: out.db, table: t, write_mode: replace", rows: { 0 }, markers: { _ in 0 })
        try Data(AppendResume.oml(target).utf8).write(to: folder.appendingPathComponent("p.oml"))
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let run = try ToolHarness.run("osiris-exec", ["p.manifest.json", "--run-dir", "runs"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try sqlite("SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'") == "t")
    }
}

/// The PostgreSQL and MariaDB writers' append and `--resume`, against the servers of scripts/with-servers.
@Suite(.enabled(if: TestServers.available, "needs the servers of scripts/with-servers (make test)"))
struct AppendResumeServerTests {
    private let temporary = ExecTestFolder()
    var folder: URL { temporary.url }

    init() throws {
        try Data(TestServers.connectionsFile.utf8).write(to: temporary.url.appendingPathComponent("connections.yaml"))
    }

    /// The target in a schema of its own (not public): the marker table is made there.
    @Test func postgreSQL() throws {
        let schema = TestServers.uniqueName("resume")
        try TestServers.psql("CREATE SCHEMA \(schema); CREATE TABLE \(schema).t (id bigint, v text)")
        defer { _ = try? TestServers.psql("DROP SCHEMA \(schema) CASCADE") }
        let target = AppendResume.Target(
            component: "postgres.writer", config: "table: \(schema).t, write_mode: append",
            rows: { Int(try TestServers.psql("SELECT count(*) FROM \(schema).t")) ?? -1 },
            markers: {
                Int(try TestServers.psql("SELECT count(*) FROM \(schema).osiris_commits WHERE run_id = '\($0)' AND step_id = 'load'")) ?? -1
            })
        try AppendResume.check(target, in: folder, connections: ["--connections", "connections.yaml"])
        #expect(try TestServers.psql("SELECT DISTINCT target_table || ' ' || rows_written FROM \(schema).osiris_commits") == "\(schema).t 3")
    }

    @Test func mariaDB() throws {
        let table = TestServers.uniqueName("resume")
        try TestServers.mariadb("CREATE TABLE \(table) (id BIGINT, v LONGTEXT) ENGINE=InnoDB")
        defer { _ = try? TestServers.mariadb("DROP TABLE \(table)") }
        let target = AppendResume.Target(
            component: "mysql.writer", config: "table: \(table), write_mode: append",
            rows: { Int(try TestServers.mariadb("SELECT COUNT(*) FROM \(table)")) ?? -1 },
            markers: { Int(try TestServers.mariadb("SELECT COUNT(*) FROM osiris_commits WHERE run_id = '\($0)' AND step_id = 'load'")) ?? -1 })
        try AppendResume.check(target, in: folder, connections: ["--connections", "connections.yaml"])
    }

    /// An append into a MariaDB table that does not exist yet creates it first (DDL commits at once),
    /// then appends with its marker.
    @Test func mariaDBNewTable() throws {
        let table = TestServers.uniqueName("resume_new")
        defer { _ = try? TestServers.mariadb("DROP TABLE IF EXISTS \(table)") }
        let target = AppendResume.Target(
            component: "mysql.writer", config: "table: \(table), write_mode: append",
            rows: { Int(try TestServers.mariadb("SELECT COUNT(*) FROM \(table)")) ?? -1 },
            markers: { Int(try TestServers.mariadb("SELECT COUNT(*) FROM osiris_commits WHERE run_id = '\($0)' AND step_id = 'load'")) ?? -1 })
        try AppendResume.check(target, in: folder, connections: ["--connections", "connections.yaml"])
    }

    /// A user who may insert into the target but not create the marker table gets an error naming the
    /// table, before anything is written (exit 78).
    @Test func aUserWhoCannotCreateTheMarkerTableIsToldWhichTable() throws {
        let socket = try #require(TestServers.environment["OSIRIS_TEST_PG_SOCKET"])
        let port = TestServers.environment["OSIRIS_TEST_PG_PORT"] ?? "5432"
        let schema = TestServers.uniqueName("resume_ro")
        let role = schema + "_user"
        let admin = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socket, "-p", port, "-U", "postgres", "-d", "osiris_test"]
        let setup = try ToolHarness.run("psql", admin, stdin: Data("""
            CREATE ROLE \(role) LOGIN PASSWORD 'ro-pw'; CREATE SCHEMA \(schema) AUTHORIZATION osiris;
            CREATE TABLE \(schema).t (id bigint, v text); ALTER TABLE \(schema).t OWNER TO osiris;
            GRANT USAGE ON SCHEMA \(schema) TO \(role); GRANT SELECT, INSERT ON \(schema).t TO \(role);
            """.utf8))
        try #require(setup.status == 0, "psql: \(setup.stderr)")
        defer { _ = try? ToolHarness.run("psql", admin, stdin: Data("DROP SCHEMA \(schema) CASCADE; DROP ROLE \(role);".utf8)) }
        let run = try AppendResume.runAppend(
            "postgres.writer", config: "table: \(schema).t, write_mode: append", in: folder, connections: """
            version: 1
            connections:
              postgres:
                ro:
                  default: true
                  host: ${OSIRIS_TEST_PG_HOST}
                  port: ${OSIRIS_TEST_PG_PORT}
                  database: ${OSIRIS_TEST_PG_DATABASE}
                  user: \(role)
                  password: ro-pw

            """)
        #expect(run.status == 78, "\(run.stderr)")
        #expect(run.stderr.contains("table '\(schema).osiris_commits'"), "\(run.stderr)")
        #expect(run.stderr.contains("may not create it in schema '\(schema)'"), "\(run.stderr)")
        #expect(try TestServers.psql("SELECT count(*) FROM \(schema).t") == "0")
    }
}

/// MariaDB: a user who may append to the target but neither see nor create the marker table.
@Suite(.enabled(if: TestServers.available, "needs the servers of scripts/with-servers (make test)"))
struct AppendResumeMariaDBPrivilegeTests {
    private let temporary = ExecTestFolder()

    @Test func aUserWhoCannotCreateTheMarkerTableIsToldWhichTable() throws {
        let socket = try #require(TestServers.environment["OSIRIS_TEST_MYSQL_SOCKET"])
        let database = TestServers.uniqueName("osiris_ro")
        let user = String(database.suffix(10)) + "_u"
        let admin = ["--socket=\(socket)", "-uroot", "--batch", "--skip-column-names"]
        let setup = try ToolHarness.run("mariadb", admin, stdin: Data("""
            CREATE DATABASE \(database); CREATE TABLE \(database).t (id BIGINT, v LONGTEXT) ENGINE=InnoDB;
            CREATE USER '\(user)'@'%' IDENTIFIED BY 'ro-pw'; CREATE USER '\(user)'@'localhost' IDENTIFIED BY 'ro-pw';
            GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON \(database).* TO '\(user)'@'%';
            GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON \(database).* TO '\(user)'@'localhost';
            """.utf8))
        try #require(setup.status == 0, "mariadb: \(setup.stderr)")
        defer {
            _ = try? ToolHarness.run("mariadb", admin, stdin: Data(
                "DROP DATABASE \(database); DROP USER '\(user)'@'%'; DROP USER '\(user)'@'localhost';".utf8))
        }
        let folder = temporary.url
        let run = try AppendResume.runAppend(
            "mysql.writer", config: "table: t, write_mode: append", in: folder, connections: """
            version: 1
            connections:
              mysql:
                ro:
                  default: true
                  host: ${OSIRIS_TEST_MYSQL_HOST}
                  port: ${OSIRIS_TEST_MYSQL_PORT}
                  database: \(database)
                  user: \(user)
                  password: ro-pw

            """)
        #expect(run.status == 78, "\(run.stderr)")
        #expect(run.stderr.contains("table '\(database).osiris_commits'"), "\(run.stderr)")
        #expect(run.stderr.contains("this user can neither see nor create it"), "\(run.stderr)")
        let count = try ToolHarness.run("mariadb", admin + ["-e", "SELECT COUNT(*) FROM \(database).t"])
        #expect(count.stdout == "0\n")
    }
}
