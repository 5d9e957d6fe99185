import OsirisCore
import OsirisData
import OsirisDrivers
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One consumer's view of a step's output: a bounded in-memory queue that spills to a file when the
/// consumer falls behind (DESIGN.md §7.1).
///
/// A producer with a full queue waits a little for an active consumer (backpressure), then spills to
/// disk instead of blocking for good. So a consumer that is not running yet (no free job slot), or
/// that reads another input first, can never deadlock the DAG, and memory stays bounded either way.
final class Subscription: BatchSource, @unchecked Sendable {
    private enum Item {
        case batch(RecordBatch)
        case spilled
    }

    let stepID: String
    private let monitor = Monitor()
    private let memoryBudget: Int
    private let spillPath: String
    private let cancellation: CancellationToken
    private var items: [Item] = []
    private var memoryBytes = 0
    private var declaredSchema: Schema?
    private var finished = false
    private var failure: StepError?
    private var abandoned = false
    private var spillWriter: BatchSpillWriter?
    private var spillReader: BatchSpillReader?
    /// Batches written to the spill file, for tests and the log.
    private(set) var spilledBatches = 0

    /// How long a producer waits for room before spilling.
    static let patienceMilliseconds = 200

    init(stepID: String, memoryBudget: Int, spillPath: String, cancellation: CancellationToken) {
        self.stepID = stepID
        self.memoryBudget = memoryBudget
        self.spillPath = spillPath
        self.cancellation = cancellation
    }

    // MARK: Producer side

    func declare(_ schema: Schema) {
        monitor.locked {
            declaredSchema = schema
            monitor.broadcast()
        }
    }

    func push(_ batch: RecordBatch) throws(StepError) {
        let size = max(batch.byteCount, 1)
        var spillError: StepError?
        monitor.locked {
            if abandoned { return }
            var waited = false
            while !abandoned, !cancellation.isCancelled, spilledPending == 0, memoryBytes > 0, memoryBytes + size > memoryBudget {
                if waited { break }
                monitor.wait(milliseconds: Self.patienceMilliseconds)
                waited = true
            }
            if abandoned || cancellation.isCancelled { return }
            if spilledPending > 0 || (memoryBytes > 0 && memoryBytes + size > memoryBudget) {
                do {
                    if spillWriter == nil { spillWriter = try BatchSpillWriter(path: spillPath) }
                    try spillWriter!.append(batch)
                } catch {
                    spillError = StepError(.run, "cannot spill step output to '\(spillPath)': \(error)")
                    return
                }
                items.append(.spilled)
                spilledBatches += 1
            } else {
                items.append(.batch(batch))
                memoryBytes += size
            }
            monitor.broadcast()
        }
        if let spillError { throw spillError }
        try cancellation.check()
    }

    /// Spilled batches not yet read, so later batches keep their order behind them.
    private var spilledPending: Int {
        var count = 0
        for item in items { if case .spilled = item { count += 1 } }
        return count
    }

    func finish(_ error: StepError?) {
        monitor.locked {
            finished = true
            failure = error
            monitor.broadcast()
        }
    }

    // MARK: Consumer side

    func schema() throws(StepError) -> Schema {
        var result: Result<Schema, StepError>!
        monitor.locked {
            while declaredSchema == nil, failure == nil, !finished, !cancellation.isCancelled {
                monitor.wait(milliseconds: 500)
            }
            if let declaredSchema {
                result = .success(declaredSchema)
            } else if cancellation.isCancelled {
                result = .failure(StepError(.cancelled, "interrupted"))
            } else {
                result = .failure(failure.map(upstream) ?? StepError(.run, "step '\(stepID)' ended without declaring its output"))
            }
        }
        return try result.get()
    }

    private func upstream(_ error: StepError) -> StepError {
        if error.code == .cancelled { return error }
        return StepError(.upstreamFailed, "input '\(stepID)' failed: \(error.message)")
    }

    func next() throws(StepError) -> RecordBatch? {
        var outcome: Result<Item?, StepError>!
        monitor.locked {
            while items.isEmpty, !finished, !cancellation.isCancelled {
                monitor.wait(milliseconds: 500)
            }
            if cancellation.isCancelled {
                outcome = .failure(StepError(.cancelled, "interrupted"))
            } else if !items.isEmpty {
                // Take the item out so the queue never keeps a consumed batch alive.
                let item = items.removeFirst()
                if case .batch(let batch) = item { memoryBytes -= max(batch.byteCount, 1) }
                monitor.broadcast()
                outcome = .success(item)
            } else if let failure {
                outcome = .failure(upstream(failure))
            } else {
                outcome = .success(nil)
            }
        }
        switch try outcome.get() {
        case nil:
            return nil
        case .batch(let batch)?:
            return batch
        case .spilled?:
            do {
                if spillReader == nil { spillReader = try BatchSpillReader(path: spillPath) }
                guard let batch = try spillReader!.next() else {
                    throw StepError(.run, "spill file '\(spillPath)' ended early")
                }
                return batch
            } catch let error as StepError {
                throw error
            } catch {
                throw StepError(.run, "cannot read spilled output of '\(stepID)': \(error)")
            }
        }
    }

    /// The consumer will not read any more (it finished, failed or was skipped): drop what is queued
    /// and let the producer go on without waiting.
    func abandon() {
        monitor.locked {
            abandoned = true
            items.removeAll()
            memoryBytes = 0
            monitor.broadcast()
        }
        spillReader?.close()
        spillReader = nil
        try? spillWriter?.finish()
        spillWriter = nil
        unlink(spillPath)
    }
}

/// A step's output sent to every consumer: a tee over subscriptions.
final class BatchTee: BatchSink, @unchecked Sendable {
    let subscriptions: [Subscription]
    /// The producing step's counters, set when the step starts.
    var progress: StepProgress?
    /// The schema the producer declared, which every batch must have.
    private var declaredSchema: Schema?

    init(subscriptions: [Subscription]) {
        self.subscriptions = subscriptions
    }

    func start(schema: Schema) throws(StepError) {
        declaredSchema = schema
        for subscription in subscriptions { subscription.declare(schema) }
    }

    func send(_ batch: RecordBatch) throws(StepError) {
        try StreamContract.check(batch, declared: declaredSchema, step: progress?.stepID ?? "?")
        for subscription in subscriptions { try subscription.push(batch) }
        progress?.emitted(rows: batch.count, bytes: batch.dataByteCount)
    }

    func finish(_ error: StepError?) {
        for subscription in subscriptions { subscription.finish(error) }
    }
}
