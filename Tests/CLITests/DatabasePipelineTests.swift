import Foundation
import Testing

/// The throwaway PostgreSQL and MariaDB servers of `scripts/with-servers`, seen from the command line:
/// their clients (`psql`, `mariadb`) and a connections file naming them.
enum TestServers {
    static let environment = ProcessInfo.processInfo.environment
    /// Whether both servers are there (the tests run under `scripts/with-servers`, as `make test` does).
    static var available: Bool {
        environment["OSIRIS_TEST_PG_URL"] != nil && environment["OSIRIS_TEST_MYSQL_URL"] != nil
    }

    /// A connections file for both servers, every field from the environment (`${VAR}`), so the file
    /// holds no secret; `@postgres.test` and `@mysql.test` are the defaults.
    static let connectionsFile = """
        version: 1
        connections:
          postgres:
            test:
              default: true
              host: ${OSIRIS_TEST_PG_HOST}
              port: ${OSIRIS_TEST_PG_PORT}
              database: ${OSIRIS_TEST_PG_DATABASE}
              user: ${OSIRIS_TEST_PG_USER}
              password: ${OSIRIS_TEST_PG_PASSWORD}
          mysql:
            test:
              default: true
              host: ${OSIRIS_TEST_MYSQL_HOST}
              port: ${OSIRIS_TEST_MYSQL_PORT}
              database: ${OSIRIS_TEST_MYSQL_DATABASE}
              user: ${OSIRIS_TEST_MYSQL_USER}
              password: ${OSIRIS_TEST_MYSQL_PASSWORD}

        """

    /// Runs SQL in PostgreSQL with psql (stops at the first error) and returns its unaligned output.
    @discardableResult
    static func psql(_ sql: String) throws -> String {
        let url = try #require(environment["OSIRIS_TEST_PG_URL"])
        let run = try ToolHarness.run("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url], stdin: Data(sql.utf8))
        try #require(run.status == 0, "psql: \(run.stderr)")
        return run.stdout.trimmingCharacters(in: .newlines)
    }

    /// Runs SQL in MariaDB with the mariadb client and returns its tab-separated output.
    @discardableResult
    static func mariadb(_ sql: String) throws -> String {
        let arguments = [
            "--host=\(environment["OSIRIS_TEST_MYSQL_HOST"] ?? "127.0.0.1")", "--port=\(environment["OSIRIS_TEST_MYSQL_PORT"] ?? "3306")",
            "--user=\(environment["OSIRIS_TEST_MYSQL_USER"] ?? "osiris")", "--password=\(environment["OSIRIS_TEST_MYSQL_PASSWORD"] ?? "")",
            "--batch", "--skip-column-names", environment["OSIRIS_TEST_MYSQL_DATABASE"] ?? "osiris_test",
        ]
        let run = try ToolHarness.run("mariadb", arguments, stdin: Data(sql.utf8))
        try #require(run.status == 0, "mariadb: \(run.stderr)")
        return run.stdout.trimmingCharacters(in: .newlines)
    }

    /// A table name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
    }
}

/// Pipelines between PostgreSQL, MariaDB, SQLite and CSV through `oml-compile` and `osiris-exec`, against
/// the real servers of `scripts/with-servers`.
@Suite(.enabled(if: TestServers.available, "needs the servers of scripts/with-servers (make test)"))
struct DatabasePipelineTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-db-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(TestServers.connectionsFile.utf8).write(to: folder.appendingPathComponent("connections.yaml"))
    }

    /// Compiles `oml` and runs it with the servers' connections file; returns the run.
    func run(_ oml: String, name: String = "p", environment: [String: String] = [:]) throws -> ToolHarness.Run {
        try Data(oml.utf8).write(to: folder.appendingPathComponent("\(name).oml"))
        let compile = try ToolHarness.run(
            "oml-compile", ["--connections", "connections.yaml", "\(name).oml", "-o", "\(name).manifest.json"], in: folder)
        try #require(compile.status == 0, "oml-compile: \(compile.stderr)")
        return try ToolHarness.run(
            "osiris-exec", ["--connections", "connections.yaml", "--run-dir", "runs", "\(name).manifest.json"],
            in: folder, environment: environment)
    }

    /// A pipeline of one extractor and one writer.
    static func copy(from extractor: String, _ source: String, to writer: String, _ target: String) -> String {
        """
        oml_version: "0.1.0"
        name: copy
        steps:
          - id: extract
            component: \(extractor)
            mode: read
            config: {\(source)}
          - id: load
            component: \(writer)
            mode: write
            needs: [extract]
            config: {\(target)}

        """
    }

    /// Every logical type, with the edge values each engine must keep: NULLs, empty text and bytes,
    /// extreme integers, decimals with scale, fractional seconds, zones, quotes, tabs, newlines,
    /// backslashes and unicode. The columns of PostgreSQL's side; `rows` fills them.
    static let everyTypeColumns = """
        id integer PRIMARY KEY, flag boolean, small smallint, big bigint, ratio double precision,
        amount numeric(12,4), label text, data bytea, day date, at_time time, local_ts timestamp,
        zoned_ts timestamptz, doc json, uid uuid
        """

    static let everyTypeRows = #"""
        INSERT INTO TABLE_NAME VALUES
        (1, true, -32768, 9223372036854775807, 0.1, 12.5,
         E'it''s "quoted"\ttab\nnew line \\ backslash, é 😀 日本', '\x00ff0a095c', '2024-02-29', '13:45:00.25',
         '2024-05-01 13:45:00.123456', '2024-05-01 13:45:00+02', '{"a": [1, 2], "b": "x\ty"}',
         '8f14e45f-ceea-467f-a0e6-7b3e9a1c2d3f'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, false, 0, -9223372036854775808, -1.5e300, -0.0001, '', '\x', '1970-01-01', '00:00:00',
         '1999-12-31 23:59:59', '2038-01-19 03:14:07+00', '[]', '00000000-0000-0000-0000-000000000000'),
        (4, true, 32767, 0, 3.141592653589793, 99999999.9999, E'\r\n\\N', '\x5c4e', '1000-01-01', '23:59:59.999999',
         '2262-04-11 23:47:16.854775', '1970-01-01 00:00:01.000001+00', '{"nested": {"k": null}}',
         'ffffffff-ffff-ffff-ffff-ffffffffffff');
        """#

    /// Each row of a PostgreSQL table as JSON text, in id order: every value as PostgreSQL prints it.
    static func rowsAsJSON(_ table: String) throws -> String {
        try TestServers.psql("SELECT row_to_json(t)::text FROM \(table) t ORDER BY id;")
    }

    @Test func everyLogicalTypeRoundTripsFromPostgreSQLThroughMariaDBBack() throws {
        let source = TestServers.uniqueName("rt_src"), back = TestServers.uniqueName("rt_back")
        let middle = TestServers.uniqueName("rt_mid")
        try TestServers.psql("""
            CREATE TABLE \(source) (\(Self.everyTypeColumns));
            CREATE TABLE \(back) (\(Self.everyTypeColumns));
            \(Self.everyTypeRows.replacingOccurrences(of: "TABLE_NAME", with: source))
            """)
        defer { _ = try? TestServers.psql("DROP TABLE \(source), \(back);") }
        defer { _ = try? TestServers.mariadb("DROP TABLE IF EXISTS \(middle);") }

        let there = try run(Self.copy(
            from: "postgres.extractor", "table: \(source)", to: "mysql.writer", "table: \(middle), write_mode: replace"), name: "there")
        #expect(there.status == 0, "\(there.stderr)")
        // MariaDB holds the zoned timestamp in UTC.
        #expect(try TestServers.mariadb("SET time_zone = '+00:00'; SELECT zoned_ts FROM \(middle) WHERE id = 1") == "2024-05-01 11:45:00.000000")
        #expect(try TestServers.mariadb("SELECT HEX(data) FROM \(middle) WHERE id = 1") == "00FF0A095C")

        let backAgain = try run(Self.copy(
            from: "mysql.extractor", "table: \(middle)", to: "postgres.writer", "table: \(back), create_table: false"), name: "back")
        #expect(backAgain.status == 0, "\(backAgain.stderr)")

        let original = try Self.rowsAsJSON(source)
        #expect(original.split(separator: "\n").count == 4)
        #expect(try Self.rowsAsJSON(back) == original)
    }

    @Test func upsertUpdatesAndInsertsExactlyTheRightRows() throws {
        let source = TestServers.uniqueName("up_src"), target = TestServers.uniqueName("up_target")
        try TestServers.psql("""
            CREATE TABLE \(source) (id integer PRIMARY KEY, name text, price numeric(8,2));
            INSERT INTO \(source) VALUES (1, 'one, new', 1.50), (2, 'two, new', NULL), (4, 'four', 4.00), (5, E'five\\t5', 5.55);
            """)
        defer { _ = try? TestServers.psql("DROP TABLE \(source);") }
        try TestServers.mariadb("""
            CREATE TABLE \(target) (id BIGINT PRIMARY KEY, name LONGTEXT, price DECIMAL(8,2));
            INSERT INTO \(target) VALUES (1, 'one', 1.00), (2, 'two', 2.00), (3, 'three', 3.00), (10, 'ten', 10.00);
            """)
        defer { _ = try? TestServers.mariadb("DROP TABLE IF EXISTS \(target);") }

        let upsert = try run(Self.copy(
            from: "postgres.extractor", "table: \(source)",
            to: "mysql.writer", "table: \(target), write_mode: upsert, primary_key: id"))
        #expect(upsert.status == 0, "\(upsert.stderr)")
        let rows = try TestServers.mariadb("SELECT id, name, IFNULL(price, 'NULL') FROM \(target) ORDER BY id")
        #expect(rows == """
            1\tone, new\t1.50
            2\ttwo, new\tNULL
            3\tthree\t3.00
            4\tfour\t4.00
            5\tfive\\t5\t5.55
            10\tten\t10.00
            """)

        // And back: MariaDB upserted into PostgreSQL, on a key of two columns.
        let pgTarget = TestServers.uniqueName("up_back")
        try TestServers.psql("""
            CREATE TABLE \(pgTarget) (id bigint, name text, price numeric(8,2), PRIMARY KEY (id, name));
            INSERT INTO \(pgTarget) VALUES (1, 'one, new', 0), (3, 'three', 0), (3, 'other', 33), (99, 'x', 99);
            """)
        defer { _ = try? TestServers.psql("DROP TABLE \(pgTarget);") }
        let back = try run(Self.copy(
            from: "mysql.extractor", "table: \(target)",
            to: "postgres.writer", "table: \(pgTarget), write_mode: upsert, primary_key: [id, name], create_table: false"), name: "back")
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try TestServers.psql("SELECT id, name, coalesce(price::text, 'NULL') FROM \(pgTarget) ORDER BY id, name;") == """
            1|one, new|1.50
            2|two, new|NULL
            3|other|33.00
            3|three|3.00
            4|four|4.00
            5|five\t5|5.55
            10|ten|10.00
            99|x|99.00
            """)
    }

    @Test func postgreSQLToSQLiteAndCSVWithAProcessorInPostgreSQL() throws {
        let table = TestServers.uniqueName("orders")
        try TestServers.psql("""
            CREATE TABLE \(table) (id integer PRIMARY KEY, country text, total numeric(10,2));
            INSERT INTO \(table) SELECT g, (ARRAY['CZ','DE','FR'])[1 + g % 3], g * 1.25 FROM generate_series(1, 3000) g;
            """)
        defer { _ = try? TestServers.psql("DROP TABLE \(table);") }
        let oml = """
            oml_version: "0.1.0"
            name: pg-report
            steps:
              - id: orders
                component: postgres.extractor
                mode: read
                config: {table: \(table)}
              - id: totals
                component: postgres.processor
                mode: transform
                needs: [orders]
                config:
                  query: SELECT country, count(*) AS orders, sum(total) AS revenue FROM input_df GROUP BY country ORDER BY country
              - id: csv
                component: filesystem.csv_writer
                mode: write
                needs: [totals]
                config: {path: out/totals.csv}
              - id: sqlite
                component: sqlite.writer
                mode: write
                needs: [orders]
                config: {path: out/orders.db, table: orders}

            """
        let result = try run(oml)
        #expect(result.status == 0, "\(result.stderr)")
        let csv = try String(contentsOf: folder.appendingPathComponent("out/totals.csv"), encoding: .utf8)
        #expect(csv == "country,orders,revenue\nCZ,1000,1876875.00\nDE,1000,1874375.00\nFR,1000,1875625.00\n")
        let sqlite = try ToolHarness.run("sqlite3", [folder.appendingPathComponent("out/orders.db").path,
                                                     "SELECT count(*), sum(total) FROM orders"])
        #expect(sqlite.stdout == "3000|5626875\n" || sqlite.stdout == "3000|5626875.0\n", "\(sqlite.stdout)")
    }

    @Test func aWrongPasswordExits77AndNoOutputHoldsIt() throws {
        let wrong = "wrong-\(UUID().uuidString)"
        for (extractor, variable) in [("postgres.extractor", "OSIRIS_TEST_PG_PASSWORD"), ("mysql.extractor", "OSIRIS_TEST_MYSQL_PASSWORD")] {
            let result = try run(Self.copy(
                from: extractor, "query: SELECT 1 AS one", to: "filesystem.csv_writer", "path: out/one.csv"),
                environment: [variable: wrong])
            #expect(result.status == 77, "\(extractor): \(result.stderr)")
            #expect(result.stderr.contains("@"), "the message names the connection: \(result.stderr)")
            #expect(!result.stdout.contains(wrong) && !result.stderr.contains(wrong))
            let runs = folder.appendingPathComponent("runs")
            let files = FileManager.default.enumerator(atPath: runs.path)?.allObjects as? [String] ?? []
            #expect(!files.isEmpty)
            for file in files {
                let text = (try? String(contentsOf: runs.appendingPathComponent(file), encoding: .utf8)) ?? ""
                #expect(!text.contains(wrong), "\(file) holds the password")
            }
        }
    }

    @Test func aMillionRowExtractKeepsPeakMemoryFlat() throws {
        func extract(_ rows: Int) throws -> (status: Int32, peakKiB: Int) {
            let oml = Self.copy(
                from: "postgres.extractor",
                "query: 'SELECT g AS id, md5(g::text) AS name, g * 0.01 AS amount, now() AS at FROM generate_series(1, \(rows)) g'",
                to: "filesystem.csv_writer", "path: \(folder.path)/out/rows-\(rows).csv")
            try Data(oml.utf8).write(to: folder.appendingPathComponent("m\(rows).oml"))
            let compile = try ToolHarness.run(
                "oml-compile", ["--connections", "connections.yaml", "m\(rows).oml", "-o", "m\(rows).manifest.json"], in: folder)
            try #require(compile.status == 0, "\(compile.stderr)")
            return try ChildProcess.peakMemory(
                ToolHarness.executable("osiris-exec"),
                ["--connections", folder.appendingPathComponent("connections.yaml").path, "--run-dir",
                 folder.appendingPathComponent("runs").path, folder.appendingPathComponent("m\(rows).manifest.json").path])
        }
        let small = try extract(100_000)
        let large = try extract(1_000_000)
        #expect(small.status == 0 && large.status == 0)
        #expect(small.peakKiB > 1024, "the child's memory was not read")
        let lines = try String(contentsOf: folder.appendingPathComponent("out/rows-1000000.csv"), encoding: .utf8)
            .utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        #expect(lines == 1_000_001)
        // Flat: ten times the rows, not ten times the memory (a few batches in flight either way).
        #expect(large.peakKiB < small.peakKiB + 32 * 1024, "100K rows: \(small.peakKiB) KiB, 1M rows: \(large.peakKiB) KiB")
        #expect(large.peakKiB < 128 * 1024, "1M rows: \(large.peakKiB) KiB")
    }

    /// The server stopped, or osiris-exec killed, in the middle of a replace: the target keeps its rows
    /// and the next run leaves no staging table behind. Runs Tests/Scripts/interrupted-load under its own
    /// servers, since it stops them.
    @Test(arguments: ["pg stop", "pg kill-exec", "mysql stop", "mysql kill-exec"])
    func anInterruptedReplaceLeavesTheTargetAsItWas(scenario: String) throws {
        let result = try interruptedLoad(scenario)
        #expect(result.stdout.contains("target unchanged"), "\(result.stdout)")
        #expect(result.stdout.contains("no staging table"), "\(result.stdout)")
    }

    /// The server stopped in the middle of an extract to a CSV file: exit 69, the old file as it was and
    /// no temporary file, and a rerun after the restart succeeds.
    @Test(arguments: ["pg stop-extract", "mysql stop-extract"])
    func aServerStoppedMidExtractLeavesTheFileAsItWas(scenario: String) throws {
        let result = try interruptedLoad(scenario)
        #expect(result.stdout.contains("osiris-exec exited 69"), "\(result.stdout)")
        #expect(result.stdout.contains("file unchanged"), "\(result.stdout)")
        #expect(result.stdout.contains("rerun succeeded"), "\(result.stdout)")
    }

    /// Runs Tests/Scripts/interrupted-load with `scenario`'s two arguments; expects status 0.
    private func interruptedLoad(_ scenario: String) throws -> ToolHarness.Run {
        let parts = scenario.split(separator: " ").map(String.init)
        let script = ToolHarness.repositoryRoot.appendingPathComponent("Tests/Scripts/interrupted-load").path
        var path = ToolHarness.binDirectory.path
        if let inherited = TestServers.environment["PATH"] { path += ":" + inherited }
        let result = try ToolHarness.run(
            ToolHarness.repositoryRoot.appendingPathComponent("scripts/with-servers").path, [script, parts[0], parts[1]],
            in: folder, environment: ["PATH": path])
        #expect(result.status == 0, "\(scenario):\n\(result.stdout)\n\(result.stderr)")
        return result
    }
}

/// Runs a child process and reports its peak memory.
///
/// `wait4`'s `ru_maxrss` cannot tell: a child spawned with vfork keeps the high-water mark of the parent's
/// memory from before its exec (the whole test process). The child's own `VmHWM` in `/proc/PID/status`
/// starts afresh at exec and only grows, so its last reading before the exit is the peak.
enum ChildProcess {
    /// Runs `executable` with `arguments` (paths in them absolute), output discarded; returns its exit
    /// status and its peak resident memory in KiB.
    static func peakMemory(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, peakKiB: Int) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = "/nonexistent"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let status = "/proc/\(process.processIdentifier)/status"
        var peak = 0
        while process.isRunning {
            if let text = try? String(contentsOfFile: status, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
                peak = max(peak, kib)
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        return (process.terminationStatus, peak)
    }
}
