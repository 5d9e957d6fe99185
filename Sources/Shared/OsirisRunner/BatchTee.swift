import OsirisCore
import OsirisData
import OsirisDrivers
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the runner saw pass through one step, which decides whether a failed try may be retried
/// (DESIGN.md §7.4): a batch handed to the step by an input, a batch it sent to its readers, a file
/// it created or rows it committed. What the driver says it read does not count.
final class DataMovement: Sendable {
    private let first = TrackedMutex<String?>(nil)

    /// Records that data moved; the first reason is kept.
    func record(_ reason: @autoclosure () -> String) {
        first.withLock { if $0 == nil { $0 = reason() } }
    }

    /// The first movement seen, such as "a batch of 'read' had been handed to it", or nil.
    var reason: String? { first.withLock { $0 } }
}

/// The queues between the steps of one run, under one lock, and what each waiting thread waits for.
///
/// A producer whose reader's queue is full waits for the reader (backpressure), so a steadily
/// slower reader slows its producer down and memory stays bounded. Waiting is not always safe:
/// a reader that is not running yet (no free job slot) would never make room, and readers that
/// wait for each other can close a circle, for example a join that reads its first input to the
/// end while the step feeding its second input waits for room in the join's other queue, and the
/// tee above both waits for that step. So the producer spills to a file instead when its reader is
/// not running, and every wait is recorded as an edge "step A waits for step B": an edge that
/// closes a circle makes one producer of the circle spill the batch it waits with. Batches never
/// overtake spilled ones: while a queue has unread spilled batches it counts as full, so its
/// producer waits for the reader to catch up, or spills again where waiting is not safe.
final class Exchange: Sendable {
    fileprivate struct Queue {
        enum Item {
            case batch(RecordBatch)
            case spilled
        }

        let producer: String
        let consumer: String
        var items: [Item] = []
        var memoryBytes = 0
        var spilledPending = 0
        var spilledBatches = 0
        var declaredSchema: Schema?
        var finished = false
        var failure: StepError?
        var abandoned = false
        /// The size of the batch the producer waits to queue, while it waits.
        var producerWaiting: Int?
        /// Whether the consumer waits for a batch or the schema.
        var consumerWaiting = false
        /// Set to make the waiting producer spill, breaking a circle of waits.
        var mustSpill = false

        /// Whether a batch of `size` bytes must wait (or spill): the queue holds other batches and
        /// the budget would be passed, or spilled batches are still unread (later batches must
        /// not overtake them).
        func isFull(adding size: Int, budget: Int) -> Bool {
            spilledPending > 0 || (memoryBytes > 0 && memoryBytes + size > budget)
        }
    }

    fileprivate struct State {
        var queues: [Queue] = []
        var running: Set<String> = []
    }

    fileprivate let state = TrackedMutex(State())
    fileprivate let signal = ChangeSignal()
    let cancellation: CancellationToken
    /// The memory one queue may hold.
    let memoryBudget: Int
    /// Called when a queue spills for the first time, with its producer, consumer and the reason.
    fileprivate let onFirstSpill: (@Sendable (String, String, String) -> Void)?
    private let cancellationKey: Int

    /// An exchange whose waits end when `cancellation` fires; `onFirstSpill` hears of each queue
    /// that starts to spill (for the run's log).
    init(memoryBudget: Int, cancellation: CancellationToken, onFirstSpill: (@Sendable (String, String, String) -> Void)? = nil) {
        self.memoryBudget = memoryBudget
        self.cancellation = cancellation
        self.onFirstSpill = onFirstSpill
        cancellationKey = cancellation.onCancel { [signal] in signal.notify() }
    }

    deinit { cancellation.remove(cancellationKey) }

    /// Marks a step as running: its producers may wait for it from now on.
    func started(_ step: String) {
        state.withLock { _ = $0.running.insert(step) }
        signal.notify()
    }

    /// Marks a step as no longer running.
    func stopped(_ step: String) {
        state.withLock { _ = $0.running.remove(step) }
        signal.notify()
    }

    /// Adds a queue from `producer` to `consumer`; returns its index.
    fileprivate func addQueue(producer: String, consumer: String) -> Int {
        state.withLock { state in
            state.queues.append(Queue(producer: producer, consumer: consumer))
            return state.queues.count - 1
        }
    }

    /// Runs `body` on one queue under the lock, then wakes every waiter.
    fileprivate func change<Result>(_ index: Int, _ body: (inout Queue) -> Result) -> Result {
        let result = state.withLock { body(&$0.queues[index]) }
        signal.notify()
        return result
    }

    /// Whether the waits recorded in `state` form a circle through queue `index`, and if so the
    /// queue whose producer should spill (nil when there is no circle).
    fileprivate static func circle(through index: Int, in state: State, budget: Int) -> Int? {
        // Each live wait is an edge from the waiting step to the step it waits for.
        var edges: [String: [(to: String, queue: Int, producerWaits: Bool)]] = [:]
        for (queueIndex, queue) in state.queues.enumerated() where !queue.abandoned {
            if let size = queue.producerWaiting, queue.isFull(adding: size, budget: budget) {
                edges[queue.producer, default: []].append((queue.consumer, queueIndex, true))
            }
            if queue.consumerWaiting, queue.items.isEmpty, !queue.finished {
                edges[queue.consumer, default: []].append((queue.producer, queueIndex, false))
            }
        }
        let queue = state.queues[index]
        // The new wait's edge goes from `origin` to `target`; a path of waits back from `target`
        // to `origin` closes a circle.
        let producerWaits = queue.producerWaiting != nil
        let (origin, target) = producerWaits ? (queue.producer, queue.consumer) : (queue.consumer, queue.producer)
        var visited: Set<String> = []
        func path(from step: String) -> [(queue: Int, producerWaits: Bool)]? {
            if step == origin { return [] }
            guard visited.insert(step).inserted else { return nil }
            for edge in edges[step] ?? [] {
                if let rest = path(from: edge.to) { return [(edge.queue, edge.producerWaits)] + rest }
            }
            return nil
        }
        guard let back = path(from: target) else { return nil }
        if producerWaits { return index }
        return back.first(where: \.producerWaits)?.queue
    }
}

/// One consumer's view of a step's output: a bounded in-memory queue that spills to a file when
/// waiting for the consumer could deadlock the run (DESIGN.md §7.1; see `Exchange`).
final class Subscription: BatchSource, Sendable {
    /// The producing step.
    let stepID: String
    /// The consuming step.
    let consumerID: String
    private let exchange: Exchange
    private let index: Int
    private let spillPath: String
    /// What the consumer was handed, for its retry decision.
    private let movement: DataMovement?
    private let spillWriter = TrackedMutex<SpillFile<BatchSpillWriter>>(.none)
    private let spillReader = TrackedMutex<SpillFile<BatchSpillReader>>(.none)

    /// A spill file that is not opened yet, open, or closed for good.
    private enum SpillFile<Handle> {
        case none
        case open(Handle)
        case closed
    }

    init(producer: String, consumer: String, exchange: Exchange, spillPath: String, movement: DataMovement? = nil) {
        stepID = producer
        consumerID = consumer
        self.exchange = exchange
        self.spillPath = spillPath
        self.movement = movement
        index = exchange.addQueue(producer: producer, consumer: consumer)
    }

    /// Batches written to the spill file, for tests and the log.
    var spilledBatches: Int { exchange.state.withLock { $0.queues[index].spilledBatches } }

    // MARK: Producer side

    func declare(_ schema: Schema) {
        exchange.change(index) { $0.declaredSchema = schema }
    }

    private enum PushDecision: Equatable {
        case queued, drop
        /// Spill, and why.
        case spill(String)
    }

    func push(_ batch: RecordBatch) throws(StepError) {
        let size = max(batch.byteCount, 1)
        let budget = exchange.memoryBudget
        let cancellation = exchange.cancellation
        let decision = exchange.signal.wait { () -> PushDecision? in
            let decision = exchange.state.withLock { state -> PushDecision? in
                // Fields are read one by one: a copy of the queue would make the append copy its items.
                if state.queues[index].abandoned || cancellation.isCancelled {
                    state.queues[index].producerWaiting = nil
                    return .drop
                }
                if !state.queues[index].isFull(adding: size, budget: budget) {
                    state.queues[index].producerWaiting = nil
                    state.queues[index].mustSpill = false
                    state.queues[index].items.append(.batch(batch))
                    state.queues[index].memoryBytes += size
                    return .queued
                }
                if state.queues[index].mustSpill {
                    state.queues[index].producerWaiting = nil
                    state.queues[index].mustSpill = false
                    return .spill("waiting for it would close a circle of waiting steps")
                }
                if !state.running.contains(state.queues[index].consumer) {
                    state.queues[index].producerWaiting = nil
                    return .spill("it is not running yet")
                }
                if state.queues[index].producerWaiting == nil {
                    state.queues[index].producerWaiting = size
                    if Exchange.circle(through: index, in: state, budget: budget) != nil {
                        state.queues[index].producerWaiting = nil
                        return .spill("waiting for it would close a circle of waiting steps")
                    }
                }
                return nil
            }
            if decision == .queued { exchange.signal.notify() }
            return decision
        }!
        switch decision {
        case .queued, .drop:
            break
        case .spill(let reason):
            try spill(batch, reason: reason)
        }
        try cancellation.check()
    }

    /// Appends `batch` to the spill file and queues a marker for it.
    private func spill(_ batch: RecordBatch, reason: String) throws(StepError) {
        let written: Result<Bool, StepError> = spillWriter.withLock { file in
            do {
                switch file {
                case .closed:
                    return .success(false)
                case .none:
                    let writer = try BatchSpillWriter(path: spillPath)
                    file = .open(writer)
                    try writer.append(batch)
                case .open(let writer):
                    try writer.append(batch)
                }
                return .success(true)
            } catch {
                return .failure(StepError(.run, "cannot spill step output to '\(spillPath)': \(error)"))
            }
        }
        guard try written.get() else { return }
        let first = exchange.change(index) { queue -> Bool in
            guard !queue.abandoned else { return false }
            queue.items.append(.spilled)
            queue.spilledPending += 1
            queue.spilledBatches += 1
            return queue.spilledBatches == 1
        }
        if first { exchange.onFirstSpill?(stepID, consumerID, reason) }
    }

    func finish(_ error: StepError?) {
        exchange.change(index) { queue in
            queue.finished = true
            queue.failure = error
        }
    }

    // MARK: Consumer side

    func schema() throws(StepError) -> Schema {
        let cancellation = exchange.cancellation
        let result = exchange.signal.wait { () -> Result<Schema, StepError>? in
            let (result, wakeOthers) = exchange.state.withLock { state -> (Result<Schema, StepError>?, Bool) in
                let queue = state.queues[index]
                if let schema = queue.declaredSchema {
                    state.queues[index].consumerWaiting = false
                    return (.success(schema), false)
                }
                if cancellation.isCancelled {
                    state.queues[index].consumerWaiting = false
                    return (.failure(StepError(.cancelled, "interrupted")), false)
                }
                if queue.finished {
                    state.queues[index].consumerWaiting = false
                    return (.failure(queue.failure.map(upstream) ?? StepError(.run, "step '\(stepID)' ended without declaring its output")), false)
                }
                return (nil, startWaiting(in: &state))
            }
            if wakeOthers { exchange.signal.notify() }
            return result
        }!
        return try result.get()
    }

    /// Records that the consumer waits on this queue; when that closes a circle of waits, tells one
    /// producer of the circle to spill and returns true (the caller wakes it).
    private func startWaiting(in state: inout Exchange.State) -> Bool {
        guard !state.queues[index].consumerWaiting else { return false }
        state.queues[index].consumerWaiting = true
        guard let victim = Exchange.circle(through: index, in: state, budget: exchange.memoryBudget) else { return false }
        state.queues[victim].mustSpill = true
        return true
    }

    private func upstream(_ error: StepError) -> StepError {
        if error.code == .cancelled { return error }
        return StepError(.upstreamFailed, "input '\(stepID)' failed: \(error.message)")
    }

    func next() throws(StepError) -> RecordBatch? {
        let cancellation = exchange.cancellation
        let outcome = exchange.signal.wait { () -> Result<Exchange.Queue.Item?, StepError>? in
            let (outcome, wakeOthers) = exchange.state.withLock { state -> (Result<Exchange.Queue.Item?, StepError>?, Bool) in
                if cancellation.isCancelled {
                    state.queues[index].consumerWaiting = false
                    return (.failure(StepError(.cancelled, "interrupted")), false)
                }
                if !state.queues[index].items.isEmpty {
                    state.queues[index].consumerWaiting = false
                    // Take the item out so the queue never keeps a consumed batch alive.
                    let item = state.queues[index].items.removeFirst()
                    switch item {
                    case .batch(let batch): state.queues[index].memoryBytes -= max(batch.byteCount, 1)
                    case .spilled: state.queues[index].spilledPending -= 1
                    }
                    return (.success(item), true)
                }
                if state.queues[index].finished {
                    state.queues[index].consumerWaiting = false
                    if let failure = state.queues[index].failure { return (.failure(upstream(failure)), false) }
                    return (.success(nil), false)
                }
                return (nil, startWaiting(in: &state))
            }
            if wakeOthers { exchange.signal.notify() }
            return outcome
        }!
        let batch: RecordBatch
        switch try outcome.get() {
        case nil:
            return nil
        case .batch(let queued)?:
            batch = queued
        case .spilled?:
            batch = try readSpilled()
        }
        movement?.record("a batch of '\(stepID)' had been handed to it")
        return batch
    }

    private func readSpilled() throws(StepError) -> RecordBatch {
        let read: Result<RecordBatch, StepError> = spillReader.withLock { file in
            do {
                let reader: BatchSpillReader
                switch file {
                case .open(let open):
                    reader = open
                case .none:
                    reader = try BatchSpillReader(path: spillPath)
                    file = .open(reader)
                case .closed:
                    return .failure(StepError(.run, "spill file '\(spillPath)' was already closed"))
                }
                guard let batch = try reader.next() else {
                    return .failure(StepError(.run, "spill file '\(spillPath)' ended early"))
                }
                return .success(batch)
            } catch {
                return .failure(StepError(.run, "cannot read spilled output of '\(stepID)': \(error)"))
            }
        }
        return try read.get()
    }

    /// The consumer will not read any more (it finished, failed or was skipped): drop what is queued
    /// and let the producer go on without waiting.
    func abandon() {
        exchange.change(index) { queue in
            queue.abandoned = true
            queue.items.removeAll()
            queue.memoryBytes = 0
            queue.spilledPending = 0
            queue.consumerWaiting = false
        }
        spillReader.withLock { file in
            if case .open(let reader) = file { reader.close() }
            file = .closed
        }
        spillWriter.withLock { file in
            if case .open(let writer) = file { try? writer.finish() }
            file = .closed
        }
        unlink(spillPath)
    }
}

/// A step's output sent to every consumer: a tee over subscriptions.
final class BatchTee: BatchSink, Sendable {
    let subscriptions: [Subscription]
    /// The producing step's counters.
    private let progress: StepProgress?
    /// What the producing step sent, for its retry decision.
    private let movement: DataMovement?
    /// The schema the producer declared, which every batch must have.
    private let declaredSchema = TrackedMutex<Schema?>(nil)

    init(subscriptions: [Subscription], progress: StepProgress? = nil, movement: DataMovement? = nil) {
        self.subscriptions = subscriptions
        self.progress = progress
        self.movement = movement
    }

    func start(schema: Schema) throws(StepError) {
        declaredSchema.withLock { $0 = schema }
        for subscription in subscriptions { subscription.declare(schema) }
    }

    func send(_ batch: RecordBatch) throws(StepError) {
        // Recorded first: once one reader may have the batch, trying again could send it twice.
        movement?.record("it had sent a batch to its readers")
        try StreamContract.check(batch, declared: declaredSchema.withLock { $0 }, step: progress?.stepID ?? "?")
        for subscription in subscriptions { try subscription.push(batch) }
        progress?.emitted(rows: batch.count, bytes: batch.dataByteCount)
    }

    func finish(_ error: StepError?) {
        for subscription in subscriptions { subscription.finish(error) }
    }
}
