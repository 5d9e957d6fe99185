import Foundation
import Testing

/// `osiris-exec --worker` spoken to directly, one JSON-RPC line at a time (osiris-worker(7)).
@Suite struct SandboxWorkerTests {
    /// Feeds `requests` to a worker and returns its answers, decoded, and its exit status.
    func converse(_ requests: [String]) throws -> ([[String: Any]], Int32) {
        let run = try ToolHarness.run("osiris-exec", ["--worker"], stdin: Data((requests.joined(separator: "\n") + "\n").utf8))
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        return (try ToolHarness.jsonLines(run.stdout), run.status)
    }

    static func error(_ answer: [String: Any]) -> (Int?, String?) {
        let error = answer["error"] as? [String: Any]
        return (error?["code"] as? Int, error?["message"] as? String)
    }

    @Test func helloChecksTheVersionAndUnknownThingsAreRefused() throws {
        let (answers, status) = try converse([
            #"{"id":1,"jsonrpc":"2.0","method":"hello","params":{"protocol":2}}"#,
            #"{"id":2,"jsonrpc":"2.0","method":"hello","params":{"protocol":1}}"#,
            #"{"id":3,"jsonrpc":"2.0","method":"format_disk","params":{}}"#,
            #"not json"#,
            #"{"id":4,"jsonrpc":"2.0","method":"run","params":{"run_id":"r1"}}"#,
            #"{"id":5,"jsonrpc":"2.0","method":"read_artifact","params":{"path":"/etc/passwd"}}"#,
            #"{"id":6,"jsonrpc":"2.0","method":"put_file","params":{"data":"","offset":0,"path":"../escape"}}"#,
            #"{"id":7,"jsonrpc":"2.0","method":"shutdown","params":{}}"#,
        ])
        #expect(status == 0)
        #expect(answers.map { $0["id"] as? Int } == [1, 2, 3, 0, 4, 5, 6, 7])
        #expect(Self.error(answers[0]) == (-32602, "this worker speaks protocol 1, not 2"))
        let hello = try #require(answers[1]["result"] as? [String: Any])
        #expect(hello["protocol"] as? Int == 1)
        #expect(hello["capabilities"] as? [String] == ["heartbeat", "put_file", "read_artifact"])
        #expect(Self.error(answers[2]) == (-32601, "unknown method 'format_disk'"))
        #expect(Self.error(answers[3]).0 == -32700)
        #expect(Self.error(answers[4]) == (-32000, "run before prepare"))
        #expect(Self.error(answers[5]) == (-32602, "no artifact '/etc/passwd'"))
        #expect(Self.error(answers[6]) == (-32602, "put_file needs a relative 'path' inside the worker's folder"))
        #expect(answers[7]["result"] as? [String: Any] != nil)
    }

    /// Found by osiris-fuzz: a `cancel` whose exit_code does not fit in 32 bits made the worker trap
    /// (SIGILL). It now cancels with the default status, 130, and answers.
    @Test func aCancelWithAnOutOfRangeExitCodeIsAnswered() throws {
        let (answers, status) = try converse([
            #"{"id":1,"jsonrpc":"2.0","method":"cancel","params":{"exit_code":99999999999}}"#,
            #"{"id":2,"jsonrpc":"2.0","method":"cancel","params":{"exit_code":-2147483649}}"#,
            #"{"id":3,"jsonrpc":"2.0","method":"shutdown","params":{}}"#,
        ])
        #expect(status == 0)
        #expect(answers.map { $0["id"] as? Int } == [1, 2, 3])
        #expect(answers.allSatisfy { $0["error"] == nil })
    }

    @Test func aDamagedUploadIsRefused() throws {
        let data = "aWQsbmFtZQoxLEFkYQo="  // "id,name\n1,Ada\n"
        let (answers, _) = try converse([
            #"{"id":1,"jsonrpc":"2.0","method":"put_file","params":{"data":"\#(data)","offset":0,"path":"in/a.csv","sha256":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}}"#,
            #"{"id":2,"jsonrpc":"2.0","method":"put_file","params":{"data":"@@@","offset":0,"path":"in/b.csv"}}"#,
            #"{"id":3,"jsonrpc":"2.0","method":"shutdown","params":{}}"#,
        ])
        let damaged = Self.error(answers[0])
        #expect(damaged.0 == -32000)
        #expect(damaged.1?.hasPrefix("'in/a.csv' arrived damaged: its SHA-256 is sha256:") == true)
        #expect(damaged.1?.hasSuffix(", not sha256:0000000000000000000000000000000000000000000000000000000000000000") == true)
        #expect(Self.error(answers[1]) == (-32602, "put_file: 'data' is not base64"))
    }

    /// Found while measuring osiris-fuzz's worker target: a `shutdown` sent while a run was under way
    /// left the run going, the worker waiting up to the grace period for it and then removing the
    /// folder under it. The run is now cancelled first: it ends aborted, answered, and promptly.
    @Test func aShutdownDuringARunCancelsIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-worker-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var csv = "id,v\n"
        for row in 1...300_000 { csv += "\(row),value \(row)\n" }
        try Data(csv.utf8).write(to: folder.appendingPathComponent("in.csv"))
        try Data("""
            oml_version: "0.1.0"
            name: long
            steps:
              - {id: extract, component: filesystem.csv_extractor, mode: read, config: {path: \(folder.path)/in.csv}}
              - {id: write, component: filesystem.csv_writer, mode: write, needs: [extract], config: {path: \(folder.path)/out.csv}}

            """.utf8).write(to: folder.appendingPathComponent("p.oml"))
        let compile = try ToolHarness.run("oml-compile", ["p.oml"], in: folder)
        try #require(compile.status == 0, "\(compile.stderr)")
        let manifest = compile.stdout.trimmingCharacters(in: .newlines)
        let started = Date()
        let (answers, status) = try converse([
            #"{"id":1,"jsonrpc":"2.0","method":"prepare","params":{"connections":{},"manifest":\#(manifest)}}"#,
            #"{"id":2,"jsonrpc":"2.0","method":"run","params":{"adapter":"sandbox","jobs":2,"run_id":"20261203T000000Z-abcdef"}}"#,
            #"{"id":3,"jsonrpc":"2.0","method":"shutdown","params":{}}"#,
        ])
        #expect(status == 0)
        let run = try #require(answers.first { $0["id"] as? Int == 2 }?["result"] as? [String: Any])
        #expect(run["status"] as? String == "aborted")
        #expect(run["exit_code"] as? Int == 143)
        #expect(answers.contains { $0["id"] as? Int == 3 })
        #expect(Date().timeIntervalSince(started) < Double(3))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.csv").path))
    }

    @Test func aWorkerWhoseInputEndsLeavesNothingBehind() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-worker-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try ToolHarness.run(
            "osiris-exec", ["--worker"], stdin: Data(#"{"id":1,"jsonrpc":"2.0","method":"hello","params":{"protocol":1}}"#.utf8),
            environment: ["TMPDIR": folder.path])
        #expect(run.status == 143)
        #expect(try ToolHarness.jsonLines(run.stdout).count == 1)
        // Its folder (created in TMPDIR) is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test(arguments: [
        (["--worker", "p.json"], "osiris-exec: error: --worker takes no manifest and no other run flag: the host sends everything"),
        (["--sandbox=ssh h osiris-exec --worker", "--require-isolation", "p.json"],
         "osiris-exec: error: --require-isolation goes with --sandbox alone (the local sandbox)"),
        (["--sandbox", "--e2b-template", "base", "p.json"], "osiris-exec: error: --e2b-template goes with --sandbox e2b"),
    ])
    func sandboxFlagsThatDoNotGoTogetherAreUsageErrors(arguments: [String], message: String) throws {
        let run = try ToolHarness.run("osiris-exec", arguments)
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == message + "\nosiris-exec: note: see 'osiris-exec --help'\n")
    }
}
