import Foundation
import Testing

/// `osiris-exec --sandbox`: the same manifests run locally, in the local sandbox (bubblewrap where it
/// works here, else a plain child), as a plain child, and through a `CMD` transport give the same
/// events (without `ts`, `duration_ms`, `adapter`, `isolation`, `run_id`) and byte-identical files;
/// a planted password appears nowhere; a killed host leaves no worker behind.
@Suite(.serialized) struct SandboxParityTests {
    private let temporary = SandboxTestFolder()
    var folder: URL { temporary.url }

    static let password = "hunter2-planted-7Qx"

    static let people = """
        id,name,city,score,note
        1,Ada,"Prague, CZ",12.50,
        2,Alan,Brno,7,""
        3,"Grace ""Amazing"" Hopper",Ostrava,0.25,"line one
        line two"
        4,Édith,Plzeň,100.00,😀 emoji

        """

    /// bwrap here, when it is installed and allowed to create namespaces.
    static let bubblewrapWorks: Bool = {
        guard let run = try? ToolHarness.run("/bin/sh", ["-c", "bwrap --ro-bind / / --unshare-user-try --unshare-net /bin/true"]) else { return false }
        return run.status == 0
    }()

    /// The ways a run is carried out: arguments, extra environment, and the isolation run_start says.
    enum Mode: String, CaseIterable {
        case local, localSandbox, plainChild, command, e2b

        var arguments: [String] {
            switch self {
            case .local: []
            case .localSandbox, .plainChild: ["--sandbox"]
            case .command: ["--sandbox", #"sh -c "exec osiris-exec --worker""#]
            case .e2b: ["--sandbox", "e2b"]
            }
        }

        /// A PATH without bwrap forces the plain child; the command finds osiris-exec on PATH.
        var path: String {
            switch self {
            case .plainChild: ToolHarness.binDirectory.path
            default: ToolHarness.binDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            }
        }

        var isolation: String? {
            switch self {
            case .local: nil
            case .localSandbox: SandboxParityTests.bubblewrapWorks ? "bwrap" : "none"
            case .plainChild: "none"
            case .command: "external"
            case .e2b: "e2b"
            }
        }
    }

    func write(_ name: String, _ text: String) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func setUp() throws {
        try write("data/people.csv", Self.people)
        try write("osiris_connections.yaml", """
            version: 1
            connections:
              sqlite:
                shop: {default: true, path: shop.db, password: "${SHOP_PASSWORD}"}
            """)
        let sqlite = try ToolHarness.run("/bin/sh", ["-c", """
            sqlite3 shop.db "CREATE TABLE orders(id INTEGER PRIMARY KEY, amount REAL, note TEXT); \
            INSERT INTO orders VALUES (1, 9.5, 'first'), (2, 20, NULL), (3, 0.125, 'ünïcode, \\"quoted\\"');"
            """], in: folder)
        #expect(sqlite.status == 0, "\(sqlite.stderr)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("out"), withIntermediateDirectories: true)
    }

    static let pipeline = """
        oml_version: "0.1.0"
        name: parity
        steps:
          - {id: people, component: filesystem.csv_extractor, mode: read, config: {path: data/people.csv}}
          - {id: orders, component: sqlite.extractor, mode: read, config: {query: "SELECT id, amount, note FROM orders ORDER BY id"}}
          - id: shape
            component: sqlite.processor
            mode: transform
            needs: [people, orders]
            config: {query: "SELECT p.id, p.name, p.city, o.amount, o.note FROM people p LEFT JOIN orders o ON o.id = p.id ORDER BY p.id DESC"}
          - {id: csv, component: filesystem.csv_writer, mode: write, needs: [shape], config: {path: out/report.csv}}
          - {id: jsonl, component: filesystem.jsonl_writer, mode: write, needs: [shape], config: {path: out/report.jsonl}}
          - {id: copy, component: sqlite.writer, mode: write, needs: [people], config: {path: out/copy.db, table: people}}
        """

    /// Runs the compiled pipeline in `mode` from a clean `out/`; returns the run, its events and the files written.
    func runPipeline(_ mode: Mode, e2b: FakeE2B? = nil) throws -> (ToolHarness.Run, [[String: Any]], [String: Data]) {
        let out = folder.appendingPathComponent("out")
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) {
            try FileManager.default.removeItem(at: out.appendingPathComponent(name))
        }
        let run = try ToolHarness.run(
            "osiris-exec", ["p.manifest.json", "--run-dir", "runs", "--jobs", "1"] + mode.arguments, in: folder,
            environment: ["SHOP_PASSWORD": Self.password, "PATH": mode.path].merging(mode == .e2b ? e2b?.environment ?? [:] : [:]) { $1 })
        let events = try ToolHarness.jsonLines(run.stdout)
        var files: [String: Data] = [:]
        for name in ["report.csv", "report.jsonl"] {
            files[name] = try Data(contentsOf: out.appendingPathComponent(name))
        }
        let rows = try ToolHarness.run("/bin/sh", ["-c", "sqlite3 out/copy.db 'SELECT * FROM people ORDER BY id'"], in: folder)
        files["copy.db rows"] = rows.stdoutBytes
        return (run, events, files)
    }

    /// The events without what may differ between adapters and runs.
    static func normalized(_ events: [[String: Any]]) -> [String] {
        // Steps run concurrently, so events of different steps interleave differently from run to run:
        // compare each step's own sequence (run_start first, run_end last).
        // `seq` counts up by one (from 1, or from where a resumed run left off).
        let first = events.first?["seq"] as? Int ?? 1
        #expect(events.map { $0["seq"] as? Int } == (0..<events.count).map { Optional(first + $0) }, "seq counts up by one")
        let rank: ([String: Any]) -> Int = { event in
            switch event["event"] as? String {
            case "run_start": 0
            case "run_end": 2
            default: 1
            }
        }
        let ordered = events.enumerated().sorted { a, b in
            let (ra, rb) = (rank(a.element), rank(b.element))
            if ra != rb { return ra < rb }
            let (sa, sb) = (a.element["step_id"] as? String ?? "", b.element["step_id"] as? String ?? "")
            return sa != sb ? sa < sb : a.offset < b.offset
        }
        return ordered.map { item in
            var event = item.element
            for key in ["ts", "duration_ms", "adapter", "isolation", "run_id", "seq"] { event.removeValue(forKey: key) }
            let data = try! JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Every file under `url`, as text.
    func allText(under url: URL) throws -> [String: String] {
        var texts: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)
        while let file = enumerator?.nextObject() as? URL {
            if let data = try? Data(contentsOf: file) { texts[file.path] = String(decoding: data, as: UTF8.self) }
        }
        return texts
    }

    @Test func everyAdapterGivesTheSameEventsAndFiles() throws {
        try setUp()
        try write("p.oml", Self.pipeline)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "compile: \(compile.stderr)")

        let (localRun, localEvents, localFiles) = try runPipeline(.local)
        try #require(localRun.status == 0, "\(localRun.stderr)")
        #expect(localEvents.count == 16)
        #expect(localEvents.first?["adapter"] as? String == "local")
        #expect(localEvents.first?["isolation"] == nil)
        #expect(String(decoding: localFiles["copy.db rows"]!, as: UTF8.self).hasPrefix("1|Ada|Prague, CZ|12.5|\n"))

        let e2b = try FakeE2B()
        defer { e2b.stop() }
        for mode in Mode.allCases where mode != .local {
            let (run, events, files) = try runPipeline(mode, e2b: e2b)
            #expect(run.status == 0, "\(mode): \(run.stderr)")
            #expect(run.stderr.isEmpty, "\(mode): \(run.stderr)")
            #expect(events.first?["adapter"] as? String == "sandbox", "\(mode)")
            #expect(events.first?["isolation"] as? String == mode.isolation, "\(mode)")
            #expect(Self.normalized(events) == Self.normalized(localEvents), "\(mode)")
            #expect(files == localFiles, "\(mode)")

            // The run directory is the one a local run writes, plus the files under artifacts/.
            let runID = try #require(events.first?["run_id"] as? String)
            let directory = folder.appendingPathComponent("runs/\(runID)")
            let recorded = try String(contentsOf: directory.appendingPathComponent("events.jsonl"), encoding: .utf8)
            #expect(recorded == run.stdout, "\(mode)")
            let status = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("status.json"))) as? [String: Any]
            #expect(status?["run_id"] as? String == runID)
            #expect(status?["status"] as? String == "success")
            #expect(try Data(contentsOf: directory.appendingPathComponent("artifacts/csv/report.csv")) == localFiles["report.csv"])
            #expect(try Data(contentsOf: directory.appendingPathComponent("artifacts/jsonl/report.jsonl")) == localFiles["report.jsonl"])
            let log = try String(contentsOf: directory.appendingPathComponent("osiris.log"), encoding: .utf8)
            #expect(log.contains("runs in a sandbox worker (isolation: \(mode.isolation ?? ""))"), "\(mode)")
            #expect(log.contains("step copy completed"), "\(mode)")

            // The planted password appears nowhere: output, diagnostics, run directory, files written.
            #expect(!run.stdout.contains(Self.password) && !run.stderr.contains(Self.password), "\(mode)")
            for (path, text) in try allText(under: folder.appendingPathComponent("runs")) {
                #expect(!text.contains(Self.password), "\(mode): \(path)")
            }
            for (name, data) in files { #expect(!String(decoding: data, as: UTF8.self).contains(Self.password), "\(mode): \(name)") }
        }

        // The local sandboxes' temporary folders beside the run directories are gone.
        let runs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("runs").path)
        #expect(runs.filter { $0.hasPrefix(".sandbox-") }.isEmpty, "\(runs)")

        // Through E2B: the sandbox is deleted at the end, and the password crossed only inside
        // `prepare` (the one SendInput that carries it), never in a header, a URL or another body.
        #expect(e2b.liveSandboxes.isEmpty)
        #expect(e2b.workerPIDs.isEmpty)
        let requests = e2b.requests
        #expect(requests.first?.method == "POST" && requests.first?.target == "/sandboxes")
        #expect(requests.last?.method == "DELETE")
        #expect(requests.filter { $0.target.hasPrefix("/process.Process/Start") }.count == 1)
        var carriers: [String] = []
        for request in requests {
            #expect(!request.target.contains(Self.password) && !request.headers.values.contains { $0.contains(Self.password) })
            var text = String(decoding: request.body, as: UTF8.self)
            if request.target == "/process.Process/SendInput",
               let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
               let input = (body["input"] as? [String: Any])?["stdin"] as? String, let data = Data(base64Encoded: input) {
                text = String(decoding: data, as: UTF8.self)
            }
            for line in text.split(separator: "\n") where line.contains(Self.password) {
                carriers.append((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["method"] as? String ?? "?")
            }
        }
        #expect(carriers == ["prepare"])
    }

    @Test func aResumedRunSkipsTheCommittedWritersInEveryAdapter() throws {
        try setUp()
        try write("p.oml", Self.pipeline)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "compile: \(compile.stderr)")
        var results: [[String]] = []
        for mode in [Mode.local, .plainChild, .command] {
            let environment = ["SHOP_PASSWORD": Self.password, "PATH": mode.path]
            let first = try ToolHarness.run(
                "osiris-exec", ["p.manifest.json", "--run-dir", "runs", "--jobs", "1"] + mode.arguments, in: folder, environment: environment)
            try #require(first.status == 0, "\(mode): \(first.stderr)")
            let runID = try #require(try ToolHarness.jsonLines(first.stdout).first?["run_id"] as? String)
            let report = try Data(contentsOf: folder.appendingPathComponent("out/report.csv"))
            let resumed = try ToolHarness.run(
                "osiris-exec", ["p.manifest.json", "--resume", "runs/\(runID)", "--jobs", "1"] + mode.arguments, in: folder,
                environment: environment)
            #expect(resumed.status == 0, "\(mode): \(resumed.stderr)")
            let events = try ToolHarness.jsonLines(resumed.stdout)
            #expect(events.first?["run_id"] as? String == runID, "\(mode)")
            #expect(events.first?["seq"] as? Int == 17, "\(mode): the numbering goes on after the first run's 16 events")
            let skipped = events.filter { $0["event"] as? String == "step_skipped" }
            #expect(skipped.compactMap { $0["step_id"] as? String }.sorted() == ["copy", "csv", "jsonl"], "\(mode)")
            #expect(skipped.allSatisfy { $0["reason"] as? String == "resumed" }, "\(mode)")
            #expect(try Data(contentsOf: folder.appendingPathComponent("out/report.csv")) == report, "\(mode)")
            let recorded = try String(contentsOf: folder.appendingPathComponent("runs/\(runID)/events.jsonl"), encoding: .utf8)
            #expect(recorded == first.stdout + resumed.stdout, "\(mode)")
            let status = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("runs/\(runID)/status.json"))) as? [String: Any]
            #expect(status?["status"] as? String == "success", "\(mode)")
            #expect(((status?["steps"] as? [String: Any])?["csv"] as? [String: Any])?["committed"] as? Bool == true, "\(mode)")
            results.append(Self.normalized(events))
        }
        #expect(results[1] == results[0])
        #expect(results[2] == results[0])
    }

    @Test func absolutePathsWorkInTheLocalSandbox() throws {
        try setUp()
        let input = folder.appendingPathComponent("data/people.csv").path
        let output = folder.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try write("p.oml", """
            oml_version: "0.1.0"
            name: absolute
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: "\(input)"}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: "\(output.path)/people.csv"}}
            """)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "\(compile.stderr)")
        var results: [[String]] = []
        for mode in [Mode.local, .localSandbox, .plainChild] {
            try? FileManager.default.removeItem(at: output.appendingPathComponent("people.csv"))
            let run = try ToolHarness.run(
                // One job at a time: the order of the events of steps running side by side is not fixed.
                "osiris-exec", ["p.manifest.json", "--run-dir", "runs", "--jobs", "1"] + mode.arguments, in: folder,
                environment: ["PATH": mode.path])
            #expect(run.status == 0, "\(mode): \(run.stderr)")
            results.append(Self.normalized(try ToolHarness.jsonLines(run.stdout)))
            #expect(try String(contentsOf: output.appendingPathComponent("people.csv"), encoding: .utf8) == Self.people, "\(mode)")
        }
        #expect(results[1] == results[0])
        #expect(results[2] == results[0])
    }

    /// A worker binary under /tmp (a fresh clone, a CI runner) is not hidden by the sandbox's private /tmp.
    @Test func aWorkerBuiltUnderTheTemporaryFolderRunsInTheLocalSandbox() throws {
        try setUp()
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try ToolHarness.executable("osiris-exec"), to: bin.appendingPathComponent("osiris-exec"))
        try write("p.oml", Self.pipeline)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0, "\(compile.stderr)")
        let run = try ToolHarness.run(
            bin.appendingPathComponent("osiris-exec").path, ["p.manifest.json", "--sandbox", "--run-dir", "runs"], in: folder,
            environment: ["SHOP_PASSWORD": Self.password])
        #expect(run.status == 0, "\(run.stderr)")
        let start = try ToolHarness.jsonLines(run.stdout).first
        #expect(start?["isolation"] as? String == Mode.localSandbox.isolation)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/report.csv").path))
    }

    @Test func aFailingStepFailsTheSameWayInTheSandbox() throws {
        try setUp()
        try write("p.oml", """
            oml_version: "0.1.0"
            name: missing
            steps:
              - {id: read, component: filesystem.csv_extractor, mode: read, config: {path: data/nowhere.csv}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [read], config: {path: out/x.csv}}
            """)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0)
        // One job at a time: the order of the events of steps running side by side is not fixed.
        let local = try ToolHarness.run("osiris-exec", ["p.manifest.json", "--run-dir", "runs", "--jobs", "1"], in: folder)
        let sandboxed = try ToolHarness.run(
            "osiris-exec", ["--sandbox", "p.manifest.json", "--run-dir", "runs", "--jobs", "1"], in: folder,
            environment: ["PATH": Mode.plainChild.path])
        #expect(local.status == 1)
        #expect(sandboxed.status == 1)
        #expect(Self.normalized(try ToolHarness.jsonLines(sandboxed.stdout)) == Self.normalized(try ToolHarness.jsonLines(local.stdout)))
        #expect(sandboxed.stderr == local.stderr)
    }

    @Test func requireIsolationRefusesAPlainChild() throws {
        try setUp()
        try write("p.oml", Self.pipeline)
        _ = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        let run = try ToolHarness.run(
            "osiris-exec", ["--sandbox", "--require-isolation", "p.manifest.json", "--run-dir", "runs"], in: folder,
            environment: ["PATH": Mode.plainChild.path, "SHOP_PASSWORD": Self.password])
        #expect(run.status == 69)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == """
            osiris-exec: error: --require-isolation: bubblewrap (bwrap) is not installed or not allowed here, so the worker cannot be isolated

            """)
        // No run directory: nothing ran.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("runs").path)) ?? []).isEmpty)
    }

    @Test func aTransportThatIsNoWorkerIsUnavailable() throws {
        try setUp()
        try write("p.oml", Self.pipeline)
        _ = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        let run = try ToolHarness.run(
            "osiris-exec", ["--sandbox", "exit 3", "p.manifest.json", "--run-dir", "runs"], in: folder,
            environment: ["SHOP_PASSWORD": Self.password])
        #expect(run.status == 69)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "osiris-exec: error: cannot start the sandbox worker: the worker ended without answering 'hello'\n")
    }

    /// The pids of the processes descending from `ancestor` (a transport's shell may stand between).
    static func descendants(of ancestor: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parents: [Int32: Int32] = [:]
        for pid in entries.compactMap(Int32.init) {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { parents[pid] = parent }
        }
        return parents.keys.filter { pid in
            var current = pid
            while let parent = parents[current], parent > 1 {
                if parent == ancestor { return true }
                current = parent
            }
            return false
        }
    }

    /// Whether `pid` is gone (or only a zombie nobody reaps).
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    static let slowPipeline = """
        oml_version: "0.1.0"
        name: slow
        steps:
          - {id: orders, component: sqlite.extractor, mode: read, config: {query: "SELECT id FROM orders"}}
          - id: spin
            component: sqlite.processor
            mode: transform
            needs: [orders]
            config: {query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000) SELECT count(*) AS n FROM c"}
          - {id: write, component: filesystem.csv_writer, mode: write, needs: [spin], config: {path: out/n.csv}}
        """

    @Test func anInterruptedHostCancelsItsWorker() throws {
        try setUp()
        try write("p.oml", Self.slowPipeline)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0)
        let (host, events) = try ToolHarness.startExec(
            ["--sandbox", "p.manifest.json", "--run-dir", "runs"], in: folder, environment: ["SHOP_PASSWORD": Self.password])
        defer { if host.isRunning { kill(host.processIdentifier, SIGKILL) } }
        // Interrupt once the slow step runs.
        for _ in 0..<200 {
            usleep(50_000)
            if (try? String(contentsOf: events, encoding: .utf8))?.contains(#""step_id":"spin""#) == true { break }
        }
        usleep(200_000)
        kill(host.processIdentifier, SIGINT)
        host.waitUntilExit()
        #expect(host.terminationStatus == 130)
        let lines = try ToolHarness.jsonLines(try String(contentsOf: events, encoding: .utf8))
        #expect(lines.last?["event"] as? String == "run_end")
        #expect(lines.last?["status"] as? String == "aborted")
        #expect(lines.last?["exit_code"] as? Int == 130)
        let failed = lines.filter { $0["event"] as? String == "step_failed" }
        #expect(failed.compactMap { $0["step_id"] as? String } == ["spin"])
        #expect((failed.first?["error"] as? [String: Any])?["code"] as? String == "CANCELLED")
        #expect(Self.descendants(of: host.processIdentifier).isEmpty)
    }

    @Test func theWorkerHoldsNoSecretAndDiesWithAKilledHost() throws {
        try setUp()
        // A transform that runs for minutes unless interrupted.
        try write("p.oml", Self.slowPipeline)
        let compile = try ToolHarness.run("oml-compile", ["p.oml", "-o", "p.manifest.json"], in: folder)
        try #require(compile.status == 0)
        for mode in [Mode.plainChild, .command] + (Self.bubblewrapWorks ? [.localSandbox] : []) {
            let host = Process()
            host.executableURL = ToolHarness.binDirectory.appendingPathComponent("osiris-exec")
            host.arguments = ["p.manifest.json", "--run-dir", "runs"] + mode.arguments
            host.currentDirectoryURL = folder
            var environment = ProcessInfo.processInfo.environment
            environment["SHOP_PASSWORD"] = Self.password
            environment["PATH"] = mode.path
            host.environment = environment
            host.standardOutput = FileHandle.nullDevice
            host.standardError = FileHandle.nullDevice
            try host.run()
            defer { if host.isRunning { kill(host.processIdentifier, SIGKILL) } }
            var worker: Int32?
            for _ in 0..<200 where worker == nil {
                usleep(50_000)
                worker = Self.descendants(of: host.processIdentifier).first { pid in
                    let arguments = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
                    return String(decoding: arguments, as: UTF8.self).contains("--worker")
                        && ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix("osiris-exec")
                }
            }
            let pid = try #require(worker, "\(mode): no worker started")
            usleep(300_000)
            let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
            #expect(String(decoding: cmdline, as: UTF8.self) == "\(ToolHarness.binDirectory.path)/osiris-exec\0--worker\0"
                || String(decoding: cmdline, as: UTF8.self) == "osiris-exec\0--worker\0", "\(mode)")
            // A non-dumpable process's environ is readable only with ptrace rights; either way it holds no password.
            if let environ = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")) {
                #expect(!String(decoding: environ, as: UTF8.self).contains(Self.password), "\(mode)")
                if mode == .plainChild {
                    // Cleared, but for the folder it works in.
                    let names = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self).prefix { $0 != "=" } }
                    #expect(names == ["TMPDIR"], "the plain child's environment is cleared")
                }
            }
            let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
            let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }
            #expect(core?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2).joined(separator: " ") == "0 0", "\(mode): \(core ?? "")")

            kill(host.processIdentifier, SIGKILL)
            host.waitUntilExit()
            var gone = false
            for _ in 0..<200 where !gone {
                usleep(50_000)
                gone = Self.isGone(pid)
            }
            #expect(gone, "\(mode): worker \(pid) outlived its host")
            if !gone { kill(pid, SIGKILL) }
        }
    }
}

/// A temporary folder removed when the suite value goes away.
final class SandboxTestFolder: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-sandbox-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}
