import Foundation
import OML
import OsirisCore
import OsirisDrivers
@testable import OsirisRunner
import Testing

/// The worker protocol's wire forms (osiris-worker(7)).
@Suite struct SandboxProtocolTests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64MatchesRFC4648(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)[...]) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func base64RoundTripsEveryByteAndRefusesOtherText() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(Base64.decode(Base64.encode(bytes[...])) == bytes)
        #expect(Base64.decode("Zm9v!") == nil)
        #expect(Base64.decode("Zm9vY") == nil)
        for count in 0..<7 { #expect(Base64.decode(Base64.encode(bytes[..<count])) == Array(bytes[..<count])) }
    }

    @Test func messagesAreOneSortedLine() throws {
        let request = WorkerMessage.request(7, "read_artifact", ["path": "out/a.csv", "offset": 0])
        #expect(String(decoding: request.line, as: UTF8.self)
            == #"{"id":7,"jsonrpc":"2.0","method":"read_artifact","params":{"offset":0,"path":"out/a.csv"}}"# + "\n")
        let failure = WorkerMessage.failure(3, WorkerError(.unknownMethod, "unknown method 'x'"))
        #expect(String(decoding: failure.line, as: UTF8.self)
            == #"{"error":{"code":-32601,"message":"unknown method 'x'"},"id":3,"jsonrpc":"2.0"}"# + "\n")
        let decoded = try WorkerMessage(line: Array(#"{"id":3,"jsonrpc":"2.0","result":{"eof":true}}"#.utf8))
        #expect(decoded.id == 3)
        #expect(decoded.method == nil)
        #expect(decoded.result == ["eof": true])
    }

    @Test func dataIsSplicedFirstIntoParamsOrResult() throws {
        let request = WorkerMessage.request(2, "put_file", ["offset": 0, "path": "in.csv"]).line(withData: "Zm9v")
        #expect(String(decoding: request, as: UTF8.self)
            == #"{"id":2,"jsonrpc":"2.0","method":"put_file","params":{"data":"Zm9v","offset":0,"path":"in.csv"}}"# + "\n")
        let response = WorkerMessage.response(5, ["eof": true]).line(withData: "")
        #expect(String(decoding: response, as: UTF8.self) == #"{"id":5,"jsonrpc":"2.0","result":{"data":"","eof":true}}"# + "\n")
        let empty = WorkerMessage.response(6, [:]).line(withData: "YQ==")
        #expect(try JSONParser.parse(empty)["result"] == ["data": "YQ=="])
    }

    @Test func aLineThatIsNotJSONRPCIsRefused() {
        #expect(throws: WorkerError.self) { try WorkerMessage(line: Array("{".utf8)) }
        #expect(throws: WorkerError.self) { try WorkerMessage(line: Array(#"{"id":1,"method":"hello"}"#.utf8)) }
        #expect(throws: WorkerError.self) { try WorkerMessage(line: Array(#"{"jsonrpc":"2.0"}"#.utf8)) }
    }

    @Test func prepareCarriesConnectionsAndTheirErrors() throws {
        let step = testStep("read", "sqlite.extractor", .extract)
        var manifest = Manifest(
            name: "p", omlVersion: "0.1.0", profile: "default", description: nil, metadata: [:], params: [:], steps: [step],
            order: [["read"]], fingerprints: [:], toolchain: [:])
        manifest.fingerprints["manifest_fp"] = Fingerprint.sha256(canonicalJSONOf: manifest.json(includingManifestFingerprint: false))
        let params = PrepareParams(manifest: manifest, connections: [
            "read": .resolved(ResolvedConnection(reference: "@sqlite.shop", family: "sqlite", fields: ["path": "shop.db", "password": "pw"])),
            "other": .failed(StepError(.configuration, "variable 'X' is not set")),
        ])
        let decoded = try PrepareParams(json: try JSONParser.parse(JSONWriter.line(params.json)))
        #expect(decoded.manifest.canonicalBytes == manifest.canonicalBytes)
        guard case .resolved(let connection)? = decoded.connections["read"] else { Issue.record("no connection"); return }
        #expect(connection.reference == "@sqlite.shop")
        #expect(connection.fields == ["path": "shop.db", "password": "pw"])
        guard case .failed(let error)? = decoded.connections["other"] else { Issue.record("no error"); return }
        #expect(error.code == .configuration)
        #expect(error.message == "variable 'X' is not set")
        #expect(error.retryable == false)
    }

    @Test func lineReaderSplitsLinesAcrossReads() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let long = String(repeating: "x", count: 200_000)
        let text = "first\n\n\(long)\nlast without newline"
        let writer = descriptors[1]
        let thread = Thread {
            _ = try? FileDescriptorOutput(descriptor: writer).write(text)
            close(writer)
        }
        thread.start()
        let reader = LineReader(descriptor: descriptors[0])
        var lines: [String] = []
        while let line = reader.next() { lines.append(String(decoding: line, as: UTF8.self)) }
        close(descriptors[0])
        #expect(lines == ["first", "", long, "last without newline"])
    }

    @Test(arguments: [("out/a.csv", true), ("a.csv", true), ("/etc/passwd", false), ("../a", false), ("a/../../b", false), ("", false)])
    func onlyContainedRelativePathsCross(path: String, allowed: Bool) {
        #expect(isContainedRelativePath(path) == allowed)
    }
}

/// The host side's handling of transports that are no workers.
@Suite struct SandboxTransportTests {
    // The tools ignore SIGPIPE (a dead worker's pipe must give EPIPE, not end the host); so does this test process.
    init() { signal(SIGPIPE, SIG_IGN) }

    func runner(_ command: String, timeout: Int, idle: Int = 60_000, folder: TemporaryFolder) -> SandboxRunner {
        let manifest = Manifest(
            name: "t", omlVersion: "0.1.0", profile: "default", description: nil, metadata: [:], params: [:],
            steps: [testStep("read", "filesystem.csv_extractor", .extract)], order: [["read"]],
            fingerprints: ["manifest_fp": "sha256:" + String(repeating: "0", count: 64)], toolchain: [:])
        let masker = SecretMasker()
        var options = RunOptions(resolver: ConnectionResolver(connections: nil, searched: "", environment: [:], masker: masker))
        options.runDirectoryParent = folder.path("runs")
        var sandbox = SandboxOptions(command: command)
        sandbox.environment = ["PATH": "/usr/bin:/bin"]
        sandbox.startTimeoutMilliseconds = timeout
        sandbox.idleTimeoutMilliseconds = idle
        return SandboxRunner(manifest: manifest, options: options, sandbox: sandbox, cancellation: CancellationToken(), masker: masker)
    }

    @Test func aTransportThatNeverAnswersIsKilledAfterTheTimeout() throws {
        let folder = TemporaryFolder()
        let started = Date()
        #expect {
            _ = try runner("sleep 30", timeout: 300, folder: folder).run()
        } throws: { error in
            let error = error as? SandboxError
            return error?.exitStatus == .unavailable
                && error?.description == "cannot start the sandbox worker: no worker answered within 300 ms (is 'sleep 30' starting 'osiris-exec --worker'?)"
        }
        #expect(Date().timeIntervalSince(started) < 5)
        // Nothing ran: no run directory.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: folder.path("runs"))) ?? []).isEmpty)
    }

    @Test func aTransportThatSpeaksSomethingElseIsRefusedAndStopped() throws {
        let folder = TemporaryFolder()
        let started = Date()
        defer { #expect(Date().timeIntervalSince(started) < 5, "the transport was waited for instead of killed") }
        #expect {
            _ = try runner("echo hello there; sleep 30", timeout: 10_000, folder: folder).run()
        } throws: { error in
            (error as? SandboxError)?.description
                == "cannot start the sandbox worker: the worker sent something that is not the worker protocol: a message does not decode as JSON: 1:1: unexpected character 'h'"
        }
    }

    static let helloWithHeartbeat = #"{"id":1,"jsonrpc":"2.0","result":{"capabilities":["heartbeat"],"protocol":1}}"#

    @Test func aWorkerThatFallsSilentBeforeTheRunIsKilled() throws {
        let folder = TemporaryFolder()
        let started = Date()
        #expect {
            _ = try runner("read l; echo '\(Self.helloWithHeartbeat)'; sleep 30", timeout: 10_000, idle: 300, folder: folder).run()
        } throws: { error in
            let error = error as? SandboxError
            return error?.exitStatus == .unavailable
                && error?.description == "cannot start the sandbox worker: the worker stopped answering: no message in 300 ms"
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func aWorkerThatFallsSilentDuringTheRunFailsIt() throws {
        let folder = TemporaryFolder()
        let started = Date()
        let script = "read l; echo '\(Self.helloWithHeartbeat)'; read l; echo '{\"id\":2,\"jsonrpc\":\"2.0\",\"result\":{}}'; read l; sleep 30"
        let outcome = try runner(script, timeout: 10_000, idle: 300, folder: folder).run()
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(outcome.status == "failed")
        #expect(outcome.exitStatus == .unavailable)
        #expect(outcome.failedSteps.map(\.message) == ["the worker stopped answering: no message in 300 ms"])
        let events = try String(contentsOfFile: outcome.directory + "/events.jsonl", encoding: .utf8)
        #expect(events.split(separator: "\n").count == 1)
        #expect(events.contains(#""event":"run_end""#) && events.contains(#""exit_code":69"#) && events.contains(#""status":"failed""#))
    }
}

/// Which database connections go through a relay under bubblewrap, and how they are rewritten.
@Suite struct DatabaseRelayPlanTests {
    func connection(_ family: String, _ fields: [String: JSONValue]) -> ResolvedConnection {
        ResolvedConnection(reference: "@\(family).x", family: family, fields: fields)
    }

    @Test func aLoopbackPostgresServerIsRelayedThroughASocketFolder() throws {
        let plan = try #require(DatabaseRelays.plan(connection("postgres", ["host": "127.0.0.1", "port": 5433, "password": "p"]), index: 1, folder: "/relays"))
        #expect(plan.socket == "pg-1/.s.PGSQL.5433")
        #expect(plan.host == "127.0.0.1" && plan.port == 5433)
        #expect(plan.fields["host"] == .string("/relays/pg-1"))
        #expect(plan.fields["port"] == .int(5433))
        #expect(plan.fields["sslmode"] == .string("disable"))
        #expect(plan.fields["password"] == .string("p"))
    }

    @Test func aMariaDBServerIsRelayedThroughASocketFile() throws {
        let plan = try #require(DatabaseRelays.plan(connection("mysql", ["host": "db.internal", "port": "3307"]), index: 2, folder: "/relays"))
        #expect(plan.socket == "mysql-2.sock")
        #expect(plan.host == "db.internal" && plan.port == 3307)
        #expect(plan.fields["host"] == .string("localhost"))
        #expect(plan.fields["socket"] == .string("/relays/mysql-2.sock"))
        #expect(plan.fields["port"] == nil)
    }

    @Test(arguments: [
        ("postgres", ["host": JSONValue.string("db.example.com")]),
        ("postgres", ["host": .string("127.0.0.1"), "sslmode": .string("require")]),
        ("postgres", ["host": .string("/var/run/postgresql")]),
        ("postgres", ["dsn": .string("postgres://db/x"), "host": .string("db")]),
        ("mysql", ["host": .string("db"), "ssl_mode": .string("required")]),
        ("mysql", ["host": .string("localhost")]),
    ])
    func connectionsARelayWouldWeakenOrCannotCarryKeepTheNetwork(family: String, fields: [String: JSONValue]) {
        #expect(DatabaseRelays.plan(connection(family, fields), index: 1, folder: "/relays") == nil)
    }
}
