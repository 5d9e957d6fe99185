import Foundation
import OML
import OsirisCore
import OsirisData
import OsirisDrivers
@testable import OsirisRunner
import Synchronization
import Testing

/// An extractor that fails with a given error a number of times, then yields one row.
final class FlakyExtractor: Extractor, @unchecked Sendable {
    let failures: Int
    let error: StepError
    let calls = Mutex(0)

    init(failures: Int, error: StepError) {
        self.failures = failures
        self.error = error
    }

    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        let call = calls.withLock { value -> Int in
            value += 1
            return value
        }
        if call <= failures { throw error }
        let schema = Schema([Field(name: "n", type: .int64)])
        try output.start(schema: schema)
        var builder = BatchBuilder(schema: schema, capacity: 1)
        builder.columns[0].append(Int64(call))
        let batch = builder.finish()
        context.progress.read(rows: 1, bytes: 8)
        try output.send(batch)
    }
}

/// A writer that reads everything and counts the rows.
struct CountingWriter: Writer {
    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        _ = try input.schema()
        var rows = 0
        while let batch = try input.next() { rows += batch.count }
        context.progress.wrote(rows: rows, bytes: rows * 8)
    }
}

@Suite struct RunnerTests {
    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-runner-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func manifest(attempts: Int) -> Manifest {
        Manifest(
            name: "retry", omlVersion: "0.1.0", profile: "default", description: nil, metadata: [:], params: [:],
            steps: [
                ManifestStep(id: "read", component: "test.flaky", mode: "extract", needs: [], connection: nil, config: [:],
                             retry: RetryPolicy(attempts: attempts, backoffMilliseconds: 1)),
                ManifestStep(id: "write", component: "test.counting", mode: "write", needs: ["read"], connection: nil, config: [:],
                             retry: RetryPolicy(attempts: 1, backoffMilliseconds: 1)),
            ],
            order: [["read"], ["write"]], fingerprints: ["manifest_fp": "sha256:" + String(repeating: "0", count: 64)],
            toolchain: [:])
    }

    func run(_ extractor: FlakyExtractor, attempts: Int) throws -> (RunOutcome, [JSONValue]) {
        let sink = MemoryEventSink()
        let masker = SecretMasker()
        var options = RunOptions(resolver: ConnectionResolver(connections: nil, searched: "", environment: [:], masker: masker))
        options.runDirectoryParent = folder.path
        options.eventSinks = [sink]
        let drivers = DriverRegistry(drivers: ["test.flaky": .extractor(extractor), "test.counting": .writer(CountingWriter())])
        let outcome = try Runner(manifest: manifest(attempts: attempts), options: options, cancellation: CancellationToken(),
                                 masker: masker, drivers: drivers).run()
        return (outcome, sink.events)
    }

    @Test func aRetryableErrorIsRetriedThenSucceeds() throws {
        let extractor = FlakyExtractor(failures: 2, error: StepError(.connection, "connection refused"))
        let (outcome, events) = try run(extractor, attempts: 3)
        #expect(outcome.exitStatus == .success)
        let names = events.compactMap { $0["event"]?.stringValue }
        #expect(names.filter { $0 == "step_retry" }.count == 2)
        let retry = try #require(events.first { $0["event"] == "step_retry" })
        #expect(retry["attempt"] == 1)
        #expect(retry["error"]?["code"] == "CONNECTION")
        #expect(retry["error"]?["retryable"] == true)
        let starts = events.filter { $0["event"] == "step_start" && $0["step_id"] == "read" }
        #expect(starts.compactMap { $0["attempt"]?.intValue } == [1, 2, 3])
        #expect(events.last?["rows_written"] == 1)
    }

    @Test(arguments: [
        (StepError.Code.connection, OsirisCore.ExitStatus.unavailable), (.temporary, .temporaryFailure), (.authentication, .permissionDenied),
        (.configuration, .configuration), (.run, .failure),
    ])
    func exhaustedOrFatalErrorsEndWithTheirClass(code: StepError.Code, status: OsirisCore.ExitStatus) throws {
        let extractor = FlakyExtractor(failures: 10, error: StepError(code, "failed"))
        let (outcome, events) = try run(extractor, attempts: 2)
        #expect(outcome.exitStatus == status)
        #expect(outcome.status == "failed")
        let retries = events.filter { $0["event"] == "step_retry" }.count
        #expect(retries == (code == .connection || code == .temporary ? 1 : 0))
        #expect(extractor.calls.withLock { $0 } == (code == .connection || code == .temporary ? 2 : 1))
        #expect(events.last?["exit_code"]?.intValue == Int(status.rawValue))
        #expect(events.contains { $0["event"] == "step_skipped" && $0["step_id"] == "write" && $0["reason"] == "upstream_failed" })
    }

    @Test func statusFileRecordsEachStep() throws {
        let (outcome, _) = try run(FlakyExtractor(failures: 0, error: StepError(.run, "")), attempts: 1)
        let status = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: outcome.directory + "/status.json"))))
        #expect(status["status"] == "success")
        #expect(status["steps"]?["read"]?["state"] == "succeeded")
        #expect(status["steps"]?["read"]?["committed"] == false)
        #expect(status["steps"]?["write"]?["committed"] == true)
        #expect(status["steps"]?["write"]?["rows_written"] == 1)
    }
}
