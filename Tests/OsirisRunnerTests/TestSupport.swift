import Foundation
import OML
import OsirisCore
import OsirisData
import OsirisDrivers
@testable import OsirisRunner
import Synchronization

/// A temporary folder removed when the test's suite value goes away.
final class TemporaryFolder: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-runner-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

let numberSchema = Schema([Field(name: "n", type: .int64)])

/// A batch of the numbers in `range`.
func numbers(_ range: Range<Int>) -> RecordBatch {
    var builder = BatchBuilder(schema: numberSchema, capacity: range.count)
    for value in range { builder.columns[0].append(Int64(value)) }
    return builder.finish()
}

/// Cancels `token` from a thread of its own after `microseconds` (not a dispatch queue, whose
/// threads the parallel tests may all hold).
func cancel(_ token: CancellationToken, after microseconds: UInt32, status: ExitStatus = .interrupted) {
    Thread {
        usleep(microseconds)
        token.cancel(status: status)
    }.start()
}

/// A manifest step for tests, with no connection and no config.
func testStep(_ id: String, _ component: String, _ mode: ManifestStep.Mode, needs: [String] = [], attempts: Int = 1) -> ManifestStep {
    ManifestStep(id: id, component: component, mode: mode, needs: needs, connection: nil, config: [:],
                 retry: RetryPolicy(attempts: attempts, backoffMilliseconds: 1))
}

/// Runs `steps` with `drivers` in `folder`; returns the outcome and the events. The run is
/// cancelled after `limit` seconds, so a deadlock fails the test instead of hanging it.
func runSteps(
    _ steps: [ManifestStep], drivers: [String: Driver], folder: TemporaryFolder, jobs: Int = 4, queueBudget: Int = 16 << 20,
    cancellation: CancellationToken = CancellationToken(), limit: Double = 30, resume: String? = nil
) throws -> (RunOutcome, [JSONValue]) {
    let manifest = Manifest(
        name: "test", omlVersion: "0.1.0", profile: "default", description: nil, metadata: [:], params: [:], steps: steps,
        order: [steps.map(\.id)], fingerprints: ["manifest_fp": "sha256:" + String(repeating: "0", count: 64)], toolchain: [:])
    let sink = MemoryEventSink()
    let masker = SecretMasker()
    var options = RunOptions(resolver: ConnectionResolver(connections: nil, searched: "", environment: [:], masker: masker))
    options.runDirectoryParent = folder.url.path
    options.eventSinks = [sink]
    options.jobs = jobs
    options.queueBudget = queueBudget
    options.resume = resume
    let watchdog = DispatchWorkItem { cancellation.cancel() }
    DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: watchdog)
    defer { watchdog.cancel() }
    let outcome = try Runner(manifest: manifest, options: options, cancellation: cancellation, masker: masker,
                             drivers: DriverRegistry(drivers: drivers)).run()
    return (outcome, sink.events)
}

extension [JSONValue] {
    /// The events named `name`, of `step` when given.
    func named(_ name: String, step: String? = nil) -> [JSONValue] {
        filter { $0["event"]?.stringValue == name && (step == nil || $0["step_id"]?.stringValue == step) }
    }

    /// The events of `step`, by name.
    func names(of step: String) -> [String] {
        filter { $0["step_id"]?.stringValue == step }.compactMap { $0["event"]?.stringValue }
    }
}

/// An extractor that sends `batches` batches of `rows` rows, then fails with `error` when given.
/// Each call counts; `after` runs after every batch sent.
final class NumberExtractor: Extractor, Sendable {
    let batches: Int
    let rows: Int
    let error: StepError?
    let readBeforeFailing: Bool
    let calls = Mutex(0)

    init(batches: Int, rows: Int = 10, error: StepError? = nil, readBeforeFailing: Bool = false) {
        self.batches = batches
        self.rows = rows
        self.error = error
        self.readBeforeFailing = readBeforeFailing
    }

    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        calls.withLock { $0 += 1 }
        try output.start(schema: numberSchema)
        if readBeforeFailing { context.progress.read(rows: 1000, bytes: 8000) }
        for index in 0..<batches {
            try output.send(numbers((index * rows)..<((index + 1) * rows)))
        }
        if let error { throw error }
    }
}

/// A writer that counts the rows it reads; it fails with `error` after `failAfter` batches when given.
final class CountingWriter: Writer, Sendable {
    let error: StepError?
    let failAfter: Int
    let pause: UInt32
    let calls = Mutex(0)
    let rows = Mutex(0)

    init(error: StepError? = nil, failAfter: Int = 0, pause: UInt32 = 0) {
        self.error = error
        self.failAfter = failAfter
        self.pause = pause
    }

    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        calls.withLock { $0 += 1 }
        _ = try input.schema()
        var batches = 0
        var count = 0
        while let batch = try input.next() {
            batches += 1
            count += batch.count
            if let error, batches >= failAfter { throw error }
            if pause > 0 { usleep(pause) }
        }
        rows.withLock { $0 = count }
        context.progress.wrote(rows: count, bytes: count * 8)
    }
}

/// A processor that reads its inputs one after the other, each to its end, and sends every batch on.
struct ConcatenatingProcessor: Processor {
    func process(_ context: StepContext, inputs: [any BatchSource], output: any BatchSink) throws(StepError) {
        for input in inputs { _ = try input.schema() }
        try output.start(schema: numberSchema)
        for input in inputs {
            while let batch = try input.next() { try output.send(batch) }
        }
    }
}

/// An extractor that blocks until the run is cancelled.
struct BlockingExtractor: Extractor {
    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        try output.start(schema: numberSchema)
        while !context.cancellation.isCancelled { usleep(5_000) }
        throw StepError(.cancelled, "interrupted")
    }
}
