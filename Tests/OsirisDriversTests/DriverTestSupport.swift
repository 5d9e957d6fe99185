import Foundation
import OML
import OsirisCore
import OsirisData
@testable import OsirisDrivers
import Synchronization

/// Collects what a step reports.
final class RecordingProgress: ProgressReporter, Sendable {
    private let totals = Mutex<(rowsRead: Int, rowsWritten: Int, artifacts: [String])>((0, 0, []))

    var rowsRead: Int { totals.withLock { $0.rowsRead } }
    var rowsWritten: Int { totals.withLock { $0.rowsWritten } }
    var artifacts: [String] { totals.withLock { $0.artifacts } }

    func read(rows: Int, bytes: Int) { totals.withLock { $0.rowsRead += rows } }
    func wrote(rows: Int, bytes: Int) { totals.withLock { $0.rowsWritten += rows } }
    func created(file path: String, bytes: Int, sha256: String) { totals.withLock { $0.artifacts.append(path) } }
}

/// A source that hands out fixed batches, like an upstream step.
// unchecked: read by the one driver thread under test.
final class FixedSource: BatchSource, @unchecked Sendable {
    let stepID: String
    private let fixedSchema: Schema
    private var batches: [RecordBatch]

    init(stepID: String, schema: Schema, batches: [RecordBatch]) {
        self.stepID = stepID
        fixedSchema = schema
        self.batches = batches
    }

    func schema() throws(StepError) -> Schema { fixedSchema }

    func next() throws(StepError) -> RecordBatch? { batches.isEmpty ? nil : batches.removeFirst() }
}

/// A sink that keeps what it is sent, holding the driver to the stream's schema as the runner's tee does.
// unchecked: a driver sends from the one thread that runs it; tests read it after the driver returned.
final class CollectingSink: BatchSink, @unchecked Sendable {
    private(set) var schema: Schema?
    private(set) var batches: [RecordBatch] = []

    func start(schema: Schema) throws(StepError) { self.schema = schema }
    func send(_ batch: RecordBatch) throws(StepError) {
        try StreamContract.check(batch, declared: schema, step: "step")
        batches.append(batch)
    }

    /// Every row as text cells, in order.
    var rows: [[String]] {
        batches.flatMap { batch in
            (0..<batch.count).map { row in batch.columns.map { $0.isNull(row) ? "NULL" : $0.string(row) } }
        }
    }
}

/// A batch of rows given as values.
func batch(_ schema: Schema, _ rows: [[Value]]) -> RecordBatch {
    var builder = BatchBuilder(schema: schema, capacity: rows.count)
    for row in rows {
        for (index, value) in row.enumerated() { builder.columns[index].append(value) }
    }
    return builder.finish()
}

/// A step context for a driver test.
func context(_ component: String, mode: String, config: JSONValue, folder: URL) -> StepContext {
    StepContext(
        step: ManifestStep(id: "step", component: component, mode: ManifestStep.Mode(rawValue: mode)!, needs: [], connection: nil, config: config,
                           retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0)),
        connection: nil, cancellation: CancellationToken(), progress: RecordingProgress(),
        temporaryDirectory: folder.path, memoryBudget: 64 << 20, masker: SecretMasker())
}

func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-drivers-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A source that hands out its batches, then fails like an upstream step that broke.
// unchecked: read by the one driver thread under test.
final class FailingSource: BatchSource, @unchecked Sendable {
    let stepID = "upstream"
    private let fixedSchema: Schema
    private var batches: [RecordBatch]
    /// Called before each batch is handed out, with the number of batches handed out so far.
    private let before: (Int) -> Void
    private var handed = 0
    private let fails: Bool
    /// The run's token, when the source should end with it.
    var cancellation: CancellationToken?

    init(schema: Schema, batches: [RecordBatch], fails: Bool = true, before: @escaping (Int) -> Void = { _ in }) {
        fixedSchema = schema
        self.batches = batches
        self.fails = fails
        self.before = before
    }

    func schema() throws(StepError) -> Schema { fixedSchema }

    func next() throws(StepError) -> RecordBatch? {
        before(handed)
        handed += 1
        // As the runner's sources do: a cancelled run ends the input.
        try cancellation?.check()
        if batches.isEmpty {
            if fails { throw StepError(.upstreamFailed, "step 'upstream' failed") }
            return nil
        }
        return batches.removeFirst()
    }
}
