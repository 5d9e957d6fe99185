import Foundation
import Testing

/// `osiris-exec` end to end, with no server: files and SQLite.
@Suite struct ExecCommandTests {
    private let temporary = ExecTestFolder()
    var folder: URL { temporary.url }

    /// The sqlite3 shell, found on PATH.
    static let sqlite3: String = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        let found = directories.map { "\($0)/sqlite3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return found ?? "sqlite3"
    }()

    func write(_ name: String, _ text: String) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    /// Starts osiris-exec on `p.manifest.json` in the background, its events going to a file.
    func startExec(_ arguments: [String]) throws -> (Process, URL) {
        try ToolHarness.startExec(["p.manifest.json", "--run-dir", "runs"] + arguments, in: folder)
    }

    /// Compiles `oml` (with the test folder as working directory) and runs it; returns the run.
    func run(_ oml: String, arguments: [String] = [], environment: [String: String] = [:]) throws -> ToolHarness.Run {
        try write("p.oml", oml)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        #expect(compile.status == 0, "compile: \(compile.stderr)")
        return try ToolHarness.run("osiris-exec", ["p.manifest.json", "--run-dir", "runs"] + arguments, in: folder, environment: environment)
    }

    static let people = """
        id,name,city,score,joined,note
        1,Ada,"Prague, CZ",12.50,2024-01-05,
        2,Alan,Brno,7,2024-02-10,""
        3,"Grace ""Amazing"" Hopper",Ostrava,0.25,2024-03-15,"line one
        line two"
        4,Édith,Plzeň,100.00,2024-04-20,😀 emoji
        5,Linus,,3.5,2024-05-25,007

        """

    @Test func csvThroughProcessorToCSVJSONLinesAndSQLite() throws {
        try write("people.csv", Self.people)
        let result = try run("""
            oml_version: "0.1.0"
            name: people
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: people.csv}}
              - id: shape
                component: sqlite.processor
                mode: transform
                needs: [read]
                config: {query: "SELECT id, name, city, score, note FROM input_df WHERE id <> 2 ORDER BY id DESC"}
              - {id: csv, component: filesystem.csv_writer, mode: write, needs: [shape], config: {path: out/people.csv}}
              - {id: jsonl, component: filesystem.jsonl_writer, mode: write, needs: [shape], config: {path: out/people.jsonl}}
              - {id: db, component: sqlite.writer, mode: write, needs: [read], config: {path: out.db, table: people}}
            """)
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(try read("out/people.csv") == """
            id,name,city,score,note
            5,Linus,,3.50,007
            4,Édith,Plzeň,100.00,😀 emoji
            3,"Grace ""Amazing"" Hopper",Ostrava,0.25,"line one
            line two"
            1,Ada,"Prague, CZ",12.50,

            """)
        #expect(try read("out/people.jsonl") == """
            {"id":5,"name":"Linus","city":null,"score":3.50,"note":"007"}
            {"id":4,"name":"Édith","city":"Plzeň","score":100.00,"note":"😀 emoji"}
            {"id":3,"name":"Grace \\"Amazing\\" Hopper","city":"Ostrava","score":0.25,"note":"line one\\nline two"}
            {"id":1,"name":"Ada","city":"Prague, CZ","score":12.50,"note":null}

            """)
        // The SQLite target holds the typed rows, NULL and empty string kept apart.
        let rows = try ToolHarness.run(Self.sqlite3, [folder.appendingPathComponent("out.db").path,
            "SELECT id, typeof(id), quote(note), typeof(score) FROM people ORDER BY id"])
        #expect(rows.stdout == "1|integer|NULL|real\n2|integer|''|integer\n3|integer|'line one\nline two'|real\n4|integer|'😀 emoji'|integer\n5|integer|'007'|real\n")
    }

    @Test func csvCopyIsByteExact() throws {
        let tricky = "a;b;c;at\r\n\"x;y\";;\"\";2024-01-05T10:00:00+01:00\r\n\"multi\r\nline\";0012;\"q\"\"q\";2024-06-30 23:59:59.123456Z\r\n"
            + " -1.50 ;1e5;true;\r\n12.500;-0.0001;ünïcødé 😀;2024-02-29T12:00:00-05:30\r\n"
        try write("in.csv", tricky)
        let result = try run("""
            oml_version: "0.1.0"
            name: copy
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: in.csv, delimiter: ";"}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv, delimiter: ";", newline: crlf}}
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try read("out.csv") == tricky)
    }

    @Test func eventStreamInvariants() throws {
        try write("people.csv", Self.people)
        let result = try run("""
            oml_version: "0.1.0"
            name: events
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: people.csv}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
            """)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "no progress line when stderr is not a terminal")
        let events = try ToolHarness.jsonLines(result.stdout)
        #expect(events.first?["event"] as? String == "run_start")
        #expect(events.last?["event"] as? String == "run_end")
        #expect(events.map { $0["seq"] as? Int ?? 0 } == Array(1...events.count))
        let runID = try #require(events.first?["run_id"] as? String)
        #expect(runID.range(of: #"^\d{8}T\d{6}Z-[a-z0-9]{6}$"#, options: .regularExpression) != nil)
        for event in events {
            #expect(event["v"] as? Int == 1)
            #expect(event["run_id"] as? String == runID)
            let ts = try #require(event["ts"] as? String)
            #expect(ts.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
        }
        #expect(events.map { $0["event"] as? String ?? "" } == [
            "run_start", "step_start", "step_start", "step_complete", "artifact_created", "step_complete", "run_end",
        ] || events.map { $0["event"] as? String ?? "" } == [
            "run_start", "step_start", "step_complete", "step_start", "artifact_created", "step_complete", "run_end",
        ])
        let start = events[0]
        #expect(start["pipeline"] as? String == "events")
        #expect(start["adapter"] as? String == "local")
        #expect(start["steps_total"] as? Int == 2)
        #expect((start["manifest_fp"] as? String)?.hasPrefix("sha256:") == true)
        let end = try #require(events.last)
        #expect(end["status"] as? String == "success")
        #expect(end["exit_code"] as? Int == 0)
        #expect(end["rows_written"] as? Int == 5)
        let artifact = try #require(events.first { $0["event"] as? String == "artifact_created" })
        #expect(artifact["path"] as? String == "out.csv")
        #expect(artifact["bytes"] as? Int == (try Data(contentsOf: folder.appendingPathComponent("out.csv"))).count)
        // events.jsonl is byte-identical to stdout; status.json, osiris.log, manifest.json, artifacts/ exist.
        let directory = folder.appendingPathComponent("runs/\(runID)")
        #expect(try Data(contentsOf: directory.appendingPathComponent("events.jsonl")) == result.stdoutBytes)
        for name in ["status.json", "osiris.log", "manifest.json", "artifacts"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        #expect(try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
            == Data(contentsOf: folder.appendingPathComponent("p.manifest.json")))
    }

    @Test func independentBranchFinishesAfterAnotherFails() throws {
        try write("good.csv", "a\n1\n2\n")
        let result = try run("""
            oml_version: "0.1.0"
            name: branches
            steps:
              - {id: missing, component: filesystem.csv_extractor, mode: read, config: {path: nowhere.csv}}
              - {id: write-missing, component: filesystem.csv_writer, mode: write, needs: [missing], config: {path: a.csv}}
              - {id: good, component: filesystem.csv_extractor, mode: read, config: {path: good.csv}}
              - {id: write-good, component: filesystem.csv_writer, mode: write, needs: [good], config: {path: b.csv}}
            """, arguments: ["--jobs", "1"])
        #expect(result.status == 1)
        let events = try ToolHarness.jsonLines(result.stdout)
        func event(_ name: String, _ step: String) -> [String: Any]? {
            events.first { $0["event"] as? String == name && $0["step_id"] as? String == step }
        }
        let failed = try #require(event("step_failed", "missing"))
        let error = try #require(failed["error"] as? [String: Any])
        #expect(error["code"] as? String == "RUN")
        #expect((error["message"] as? String)?.contains("nowhere.csv") == true)
        #expect(error["retryable"] as? Bool == false)
        #expect(event("step_complete", "write-good") != nil)
        #expect(event("step_skipped", "write-missing")?["reason"] as? String == "upstream_failed")
        #expect(events.last?["status"] as? String == "failed")
        #expect(events.last?["exit_code"] as? Int == 1)
        #expect(try read("b.csv") == "a\n1\n2\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("a.csv").path))
        // One line per failed step on stderr, though it is not a terminal.
        #expect(result.stderr == "osiris-exec: error: step 'missing' failed: RUN: \(error["message"] as? String ?? "")\n")
    }

    @Test func resumeSkipsTheCommittedWriter() throws {
        try write("good.csv", "a\n1\n")
        let oml = """
            oml_version: "0.1.0"
            name: resume
            steps:
              - {id: late, component: filesystem.csv_extractor, mode: read, config: {path: late.csv}}
              - {id: write-late, component: filesystem.csv_writer, mode: write, needs: [late], config: {path: late-out.csv}}
              - {id: good, component: filesystem.csv_extractor, mode: read, config: {path: good.csv}}
              - {id: write-good, component: sqlite.writer, mode: write, needs: [good], config: {path: out.db, table: t}}
            """
        let first = try run(oml)
        #expect(first.status == 1)
        let runID = try #require(try ToolHarness.jsonLines(first.stdout).first?["run_id"] as? String)
        try write("late.csv", "b\n2\n")
        let second = try ToolHarness.run("osiris-exec", ["p.manifest.json", "--resume", "runs/\(runID)"], in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        let events = try ToolHarness.jsonLines(second.stdout)
        #expect(events.allSatisfy { $0["run_id"] as? String == runID })
        let skipped = events.filter { $0["event"] as? String == "step_skipped" }
        #expect(skipped.map { $0["step_id"] as? String } == ["write-good"])
        #expect(skipped.first?["reason"] as? String == "resumed")
        #expect(events.contains { $0["event"] as? String == "step_complete" && $0["step_id"] as? String == "write-late" })
        // The committed append did not run twice.
        let rows = try ToolHarness.run(Self.sqlite3, [folder.appendingPathComponent("out.db").path, "SELECT count(*) FROM t"])
        #expect(rows.stdout == "1\n")
        // The events file holds both runs with one sequence.
        let all = try ToolHarness.jsonLines(try read("runs/\(runID)/events.jsonl"))
        #expect(all.map { $0["seq"] as? Int ?? 0 } == Array(1...all.count))
    }

    /// Found by bench/faults/kill-loop: osiris-exec killed right after creating its run directory (with
    /// manifest.json, before status.json) left a directory --resume refused (66). Nothing had run, so
    /// it now resumes with every step pending, under the directory's run id.
    @Test func aRunKilledBeforeItsStatusFileResumes() throws {
        try write("in.csv", "a\n1\n")
        let first = try run(Self.threeSteps)
        #expect(first.status == 0, "\(first.stderr)")
        let runID = try #require(try ToolHarness.jsonLines(first.stdout).first?["run_id"] as? String)
        for name in ["status.json", "events.jsonl", "osiris.log"] {
            try FileManager.default.removeItem(at: folder.appendingPathComponent("runs/\(runID)/\(name)"))
        }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("out.csv"))
        let resumed = try ToolHarness.run("osiris-exec", ["p.manifest.json", "--resume", "runs/\(runID)"], in: folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try ToolHarness.jsonLines(resumed.stdout).allSatisfy { $0["run_id"] as? String == runID })
        #expect(try read("out.csv") == "a\n1\n")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/\(runID)/status.json").path))
    }

    @Test func unsetVariableExits78NamingItNeverAValue() throws {
        try write("osiris_connections.yaml", """
            version: 1
            connections:
              sqlite:
                vault: {default: true, path: "${VAULT_DB_PATH}", password: "${VAULT_PASSWORD}"}
            """)
        let result = try run("""
            oml_version: "0.1.0"
            name: unset
            steps:
              - {id: read, component: sqlite.extractor, mode: read, config: {table: t}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
            """, environment: ["VAULT_PASSWORD": "s3cr3t-value"])
        #expect(result.status == 78)
        let failed = try ToolHarness.jsonLines(result.stdout).first { $0["event"] as? String == "step_failed" }
        let message = try #require((failed?["error"] as? [String: Any])?["message"] as? String)
        #expect(message.contains("VAULT_DB_PATH"))
        #expect(message.contains("@sqlite.vault"))
        #expect(!result.stdout.contains("s3cr3t-value"))
    }

    @Test func plantedPasswordAppearsNowhere() throws {
        let password = "Planted-Passw0rd-7c1e"
        try write("osiris_connections.yaml", """
            version: 1
            connections:
              sqlite:
                shop: {default: true, path: "${SHOP_PASSWORD}/shop.db", password: "${SHOP_PASSWORD}"}
            """)
        // The database path holds the password, so the driver's error message contains it.
        let result = try run("""
            oml_version: "0.1.0"
            name: leak
            steps:
              - {id: read, component: sqlite.extractor, mode: read, config: {table: t}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
            """, environment: ["SHOP_PASSWORD": password])
        #expect(result.status == 1)
        #expect(result.stdout.contains("***"))
        #expect(!result.stdout.contains(password))
        #expect(!result.stderr.contains(password))
        let runs = folder.appendingPathComponent("runs")
        let enumerator = try #require(FileManager.default.enumerator(atPath: runs.path))
        var files = 0
        for case let path as String in enumerator {
            var isDirectory: ObjCBool = false
            let url = runs.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files += 1
            let data = try Data(contentsOf: url)
            #expect(data.range(of: Data(password.utf8)) == nil, "\(path) holds the password")
        }
        #expect(files >= 4)
    }

    @Test func duckdbProcessorFailsWithAPointerToSQLite() throws {
        try write("a.csv", "x\n1\n")
        let result = try run("""
            oml_version: "0.1.0"
            name: duck
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: a.csv}}
              - {id: duck, component: duckdb.processor, mode: transform, needs: [read], config: {query: "SELECT * FROM input_df"}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [duck], config: {path: out.csv}}
            """)
        #expect(result.status == 1)
        let events = try ToolHarness.jsonLines(result.stdout)
        // Refused before any step ran: the extract did not run first.
        #expect(events.map { $0["event"] as? String ?? "" } == ["run_start", "step_failed", "run_end"])
        let error = try #require(events[1]["error"] as? [String: Any])
        #expect(events[1]["step_id"] as? String == "duck")
        #expect(error["code"] as? String == "RUN")
        #expect((error["message"] as? String)?.contains("'component: sqlite.processor'") == true)
        #expect(result.stderr.hasPrefix("osiris-exec: error: step 'duck' failed: RUN: component 'duckdb.processor' cannot run in this build"))
    }

    @Test func oneJobStillStreamsThroughSpills() throws {
        var csv = "n,text\n"
        for index in 0..<200_000 { csv += "\(index),row number \(index)\n" }
        try write("big.csv", csv)
        let result = try run("""
            oml_version: "0.1.0"
            name: spill
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: big.csv}}
              - {id: one, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: one.csv}}
              - {id: two, component: filesystem.jsonl_writer, mode: write, needs: [read], config: {path: two.jsonl}}
            """, arguments: ["--jobs", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try read("one.csv") == csv)
        // step_progress comes at most about once a second per step.
        var last: [String: Date] = [:]
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for event in try ToolHarness.jsonLines(result.stdout) where event["event"] as? String == "step_progress" {
            let step = try #require(event["step_id"] as? String)
            let stamp = try #require(event["ts"] as? String)
            let time = try #require(formatter.date(from: stamp))
            if let previous = last[step] { #expect(time.timeIntervalSince(previous) >= 0.9) }
            last[step] = time
            #expect((event["rows"] as? Int ?? 0) > 0)
        }
        #expect(try read("two.jsonl").split(separator: "\n").count == 200_000)
    }

    @Test func inputErrors() throws {
        try write("p.oml", "oml_version: \"0.1.0\"\nname: x\nsteps: []\n")
        let oml = try ToolHarness.run("osiris-exec", ["p.oml"], in: folder)
        #expect(oml.status == 65)
        #expect(oml.stderr.contains("this is OML, not a manifest; compile it first: oml-compile p.oml -o p.manifest.json"))
        try write("future.json", "{\"manifest_version\": 9}")
        let future = try ToolHarness.run("osiris-exec", ["future.json"], in: folder)
        #expect(future.status == 65)
        #expect(future.stderr.contains("unsupported manifest_version 9"))
        try write("broken.json", "{\"manifest_version\": 1, ")
        #expect(try ToolHarness.run("osiris-exec", ["broken.json"], in: folder).status == 65)
        #expect(try ToolHarness.run("osiris-exec", ["missing.json"], in: folder).status == 66)
        #expect(try ToolHarness.run("osiris-exec", ["--jobs", "0", "x.json"], in: folder).status == 64)
    }

    /// The input is a FIFO the test feeds, so the signal arrives while data is in flight, whatever the
    /// machine's speed; closing the FIFO afterwards lets the extractor's read return.
    @Test(arguments: [(Int32(SIGINT), Int32(130)), (Int32(SIGTERM), Int32(143))])
    func interruptionLeavesTargetsUntouchedAndNoTemporaryFiles(signal: Int32, status: Int32) throws {
        let fifo = folder.appendingPathComponent("feed.csv")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        try write("target.csv", "the old content\n")
        try write("p.oml", """
            oml_version: "0.1.0"
            name: interrupted
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: feed.csv}}
              - {id: copy, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: target.csv}}
              - {id: load, component: sqlite.writer, mode: write, needs: [read], config: {path: target.db, table: t}}
              - {id: later, component: filesystem.csv_extractor, mode: read, config: {path: target.csv}}
            """)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        _ = try ToolHarness.run(Self.sqlite3, [folder.appendingPathComponent("target.db").path, "CREATE TABLE t (n INTEGER, text TEXT); INSERT INTO t VALUES (42, 'kept');"])

        let (process, events) = try startExec(["--jobs", "3"])
        let feed = try #require(FileHandle(forWritingAtPath: fifo.path))
        var chunk = "n,text\n"
        for index in 0..<150_000 { chunk += "\(index),row \(index)\n" }
        feed.write(Data(chunk.utf8))
        // Wait until both writers are consuming, then interrupt with the input still open.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: events, encoding: .utf8)) ?? ""
            if text.contains("\"step_id\":\"load\"") && text.contains("\"step_id\":\"copy\"") { break }
            usleep(20_000)
        }
        usleep(300_000)
        kill(process.processIdentifier, signal)
        usleep(100_000)
        try feed.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == status)
        let lines = try ToolHarness.jsonLines(try String(contentsOf: events, encoding: .utf8))
        #expect(lines.first?["event"] as? String == "run_start")
        #expect(lines.last?["event"] as? String == "run_end")
        #expect(lines.last?["status"] as? String == "aborted")
        #expect(lines.last?["exit_code"] as? Int == Int(status))
        let failed = lines.filter { $0["event"] as? String == "step_failed" }.compactMap { $0["step_id"] as? String }
        #expect(Set(failed) == ["read", "copy", "load"])
        // 'later' never started (three jobs were busy): it gets no event at all, no step_skipped.
        #expect(!lines.contains { $0["step_id"] as? String == "later" })
        #expect(!lines.contains { $0["event"] as? String == "step_skipped" })
        #expect(try read("target.csv") == "the old content\n")
        let rows = try ToolHarness.run(Self.sqlite3, [folder.appendingPathComponent("target.db").path, "SELECT n, text FROM t"])
        #expect(rows.stdout == "42|kept\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.contains(".osiris-") || $0.hasSuffix("-journal") || $0.hasSuffix("-wal") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let runID = try #require(lines.first?["run_id"] as? String)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/\(runID)/spill").path))
    }

    /// Past the process's file-size limit (`ulimit -f`, 128 KiB here) a file writer's write fails
    /// with EFBIG instead of osiris-exec dying of SIGXFSZ: the run exits 74 naming the file, the old
    /// file is intact and no temporary file is left.
    @Test(arguments: ["filesystem.csv_writer", "filesystem.jsonl_writer"])
    func aFileSizeLimitFailsTheWriteWith74(writer: String) throws {
        var input = "id,text\n"
        for index in 0..<40_000 { input += "\(index),row number \(index)\n" }
        try write("big.csv", input)
        try write("out/target", "the old content\n")
        try write("p.oml", """
            oml_version: "0.1.0"
            name: file-size-limit
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: big.csv}}
              - {id: write, component: \(writer), mode: write, needs: [read], config: {path: out/target}}
            """)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let osirisExec = ToolHarness.binDirectory.appendingPathComponent("osiris-exec").path
        let result = try ToolHarness.run(
            "sh", ["-c", "ulimit -f 256 && exec \"$0\" p.manifest.json --run-dir runs", osirisExec], in: folder)
        #expect(result.status == 74, "\(result.stderr)")
        #expect(result.stderr.contains("step 'write' failed: IO: cannot write 'out/target'"), "\(result.stderr)")
        #expect(result.stderr.contains("File too large"), "\(result.stderr)")
        let failed = try ToolHarness.jsonLines(result.stdout).first { $0["event"] as? String == "step_failed" }
        #expect((failed?["error"] as? [String: Any])?["code"] as? String == "IO")
        #expect(try read("out/target") == "the old content\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out").path) == ["target"])
    }

    /// osiris-exec killed with SIGKILL in the middle of a file write cannot remove its temporary file;
    /// the next write to the same target removes it (nobody holds its lock any more) and succeeds.
    @Test func theNextWriteRemovesAKilledWritersTemporaryFile() throws {
        let fifo = folder.appendingPathComponent("feed.csv")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        try write("target.csv", "the old content\n")
        try write("p.oml", """
            oml_version: "0.1.0"
            name: killed
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: feed.csv}}
              - {id: copy, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: target.csv}}
            """)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let (process, _) = try startExec([])
        let feed = try #require(FileHandle(forWritingAtPath: fifo.path))
        var chunk = "n,text\n"
        for index in 0..<150_000 { chunk += "\(index),row \(index)\n" }
        feed.write(Data(chunk.utf8))
        func temporaryFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".target.csv.osiris-") }
        }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try temporaryFiles().isEmpty { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try feed.close()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(try temporaryFiles().count == 1)
        #expect(try read("target.csv") == "the old content\n")

        try FileManager.default.removeItem(at: fifo)
        try write("feed.csv", "n,text\n1,new\n")
        let next = try ToolHarness.run("osiris-exec", ["p.manifest.json", "--run-dir", "runs"], in: folder)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try read("target.csv") == "n,text\n1,new\n")
        #expect(try temporaryFiles() == [])
    }

    /// A read blocked on a pipe cannot be interrupted; the run still ends promptly and completely.
    @Test func interruptionEndsARunWhoseReaderIsBlocked() throws {
        let fifo = folder.appendingPathComponent("slow.csv")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        try write("p.oml", """
            oml_version: "0.1.0"
            name: blocked
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: slow.csv}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out.csv}}
            """)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let (process, events) = try startExec([])
        let feed = try #require(FileHandle(forWritingAtPath: fifo.path))
        feed.write(Data("a,b\n1,2\n".utf8))
        usleep(500_000)
        let sent = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(sent) < 10)
        try feed.close()
        #expect(process.terminationStatus == 130)
        let lines = try ToolHarness.jsonLines(try String(contentsOf: events, encoding: .utf8))
        #expect(lines.last?["event"] as? String == "run_end")
        #expect(lines.last?["status"] as? String == "aborted")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.csv").path))
        let runID = try #require(lines.first?["run_id"] as? String)
        let status = try String(contentsOf: folder.appendingPathComponent("runs/\(runID)/status.json"), encoding: .utf8)
        #expect(status.contains("\"status\":\"aborted\""))
    }

    /// Runs osiris-exec on `manifest` in the test folder, killing it after `limit` seconds so a hang
    /// fails the test instead of stopping the suite; returns the run and how long it took.
    func execBounded(_ arguments: [String], limit: TimeInterval = 20) throws -> (status: Int32, reason: Process.TerminationReason, stderr: String, seconds: TimeInterval) {
        let process = Process()
        process.executableURL = ToolHarness.binDirectory.appendingPathComponent("osiris-exec")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let errors = folder.appendingPathComponent("stderr.out")
        #expect(FileManager.default.createFile(atPath: errors.path, contents: nil))
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        let started = Date()
        try process.run()
        while process.isRunning, Date().timeIntervalSince(started) < limit { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason, try read("stderr.out"), Date().timeIntervalSince(started))
    }

    static let threeSteps = """
        oml_version: "0.1.0"
        name: edited
        steps:
          - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: in.csv}}
          - {id: shape, component: sqlite.processor, mode: transform, needs: [read], config: {query: "SELECT * FROM input_df"}}
          - {id: write, component: filesystem.csv_writer, mode: write, needs: [shape], config: {path: out.csv}}
        """

    /// A manifest edited by hand: each edit keeps the old manifest_fp.
    static let edits: [(String, @Sendable ([String: Any]) -> [String: Any])] = [
        ("step id 'read' is used twice (steps[0] and steps[2])", { editStep($0, 2) { $0["id"] = "read" } }),
        ("step 'read' uses unknown component 'filesystem.csv_extractr'; did you mean 'filesystem.csv_extractor'?",
         { editStep($0, 0) { $0["component"] = "filesystem.csv_extractr" } }),
        ("step 'read' has mode 'read', which is not one of 'extract', 'write', 'transform'", { editStep($0, 0) { $0["mode"] = "read" } }),
        ("step 'read' has mode 'write', but component 'filesystem.csv_extractor' supports only 'extract'",
         { editStep($0, 0) { $0["mode"] = "write" } }),
        ("step 'write' needs unknown step 'nowhere'", { editStep($0, 2) { $0["needs"] = ["nowhere"] } }),
        ("steps 'read' -> 'write' -> 'shape' -> 'read' need each other in a cycle", { editStep($0, 0) { $0["needs"] = ["write"] } }),
        ("steps 'read' -> 'read' need each other in a cycle", { editStep($0, 0) { $0["needs"] = ["read"] } }),
        ("'order' puts step 'write' at level 0, not after 'shape' (level 1), which it needs", { manifest in
            var manifest = manifest
            manifest["order"] = [["read", "write"], ["shape"]]
            return manifest
        }),
        ("step 'shape' is missing from 'order'", { manifest in
            var manifest = manifest
            manifest["order"] = [["read"], ["write"]]
            return manifest
        }),
        ("step 'read' has retry.attempts 0; it must be at least 1", { editStep($0, 0) { $0["retry"] = ["attempts": 0, "backoff_ms": 500] } }),
        ("step 'read' has retry.backoff_ms -5; it must not be negative", { editStep($0, 0) { $0["retry"] = ["attempts": 3, "backoff_ms": -5] } }),
        ("step 'read': 'config' must be an object, not a string", { editStep($0, 0) { $0["config"] = "in.csv" } }),
        ("'manifest_fp' does not match the manifest's content, so it was changed after oml-compile wrote it; edit the pipeline's OML instead and compile it again: oml-compile FILE -o p.manifest.json",
         { editStep($0, 0) { $0["config"] = ["path": "other.csv"] } }),
    ]

    static func editStep(_ manifest: [String: Any], _ index: Int, _ change: (inout [String: Any]) -> Void) -> [String: Any] {
        var manifest = manifest
        var steps = manifest["steps"] as! [[String: Any]]
        change(&steps[index])
        manifest["steps"] = steps
        return manifest
    }

    @Test(arguments: 0..<edits.count)
    func handEditedManifestsAreRefusedWith65NamingTheStep(edit: Int) throws {
        let (expected, change) = Self.edits[edit]
        try write("in.csv", "a\n1\n")
        try write("p.oml", Self.threeSteps)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("p.manifest.json"))) as? [String: Any])
        try JSONSerialization.data(withJSONObject: change(manifest)).write(to: folder.appendingPathComponent("p.manifest.json"))
        let result = try execBounded(["p.manifest.json", "--run-dir", "runs"])
        #expect(result.reason == .exit)
        #expect(result.status == 65)
        #expect(result.seconds < 2)
        #expect(result.stderr == "osiris-exec: error: p.manifest.json: \(expected)\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.csv").path))
    }

    /// The fingerprint covers the content, not the bytes: the same manifest written another way runs.
    @Test func aReformattedButUnchangedManifestRuns() throws {
        try write("in.csv", "a\n1\n")
        try write("p.oml", Self.threeSteps)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("p.manifest.json")))
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted]).write(to: folder.appendingPathComponent("p.manifest.json"))
        let result = try execBounded(["p.manifest.json", "--run-dir", "runs"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try read("out.csv") == "a\n1\n")
    }

    /// EPIPE: a reader of the events that goes away does not stop the run (osiris-exec(1)).
    @Test func aClosedStandardOutputLetsTheRunFinish() throws {
        try write("in.csv", "a\n1\n2\n")
        try write("p.oml", Self.threeSteps)
        #expect(try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder).status == 0)
        let pipe = Pipe()
        let process = Process()
        process.executableURL = ToolHarness.binDirectory.appendingPathComponent("osiris-exec")
        process.arguments = ["p.manifest.json", "--run-dir", "runs"]
        process.currentDirectoryURL = folder
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        // No reader at all: the first event already meets EPIPE.
        try pipe.fileHandleForReading.close()
        try process.run()
        try pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        #expect(try read("out.csv") == "a\n1\n2\n")
        let runs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("runs").path)
        let events = try ToolHarness.jsonLines(try read("runs/\(try #require(runs.first))/events.jsonl"))
        #expect(events.first?["event"] as? String == "run_start")
        #expect(events.last?["event"] as? String == "run_end")
        #expect(events.last?["status"] as? String == "success")
    }
}

/// A temporary folder removed when the suite value goes away.
final class ExecTestFolder: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-exec-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
