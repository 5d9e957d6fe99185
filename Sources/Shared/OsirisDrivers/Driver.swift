import OML
import Synchronization
import OsirisCore
import OsirisData

/// Set by the runner when the run is interrupted; drivers check it between batches and stop.
///
/// Every handler runs exactly once: the ones registered before `cancel()` took the state are run
/// by `cancel()`, the ones registered after it by `onCancel` itself. The exit status is stored before
/// the flag, so whoever sees `isCancelled` also sees the status.
public final class CancellationToken: Sendable {
    private struct State {
        var cancelled = false
        var nextKey = 0
        var handlers: [Int: @Sendable () -> Void] = [:]
    }

    private let state = TrackedMutex(State())
    private let flag = Atomic<Bool>(false)
    private let status = Atomic<Int32>(ExitStatus.interrupted.rawValue)

    /// A token that is not cancelled.
    public init() {}

    /// Whether the run was cancelled.
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }

    /// Cancels, and calls every registered handler once (drivers interrupt blocking calls there).
    /// `status` is what the run exits with: 130 for SIGINT, 143 for SIGTERM. Only the first call counts.
    public func cancel(status: ExitStatus = .interrupted) {
        let handlers: [@Sendable () -> Void]? = state.withLock { state in
            if state.cancelled { return nil }
            state.cancelled = true
            self.status.store(status.rawValue, ordering: .releasing)
            flag.store(true, ordering: .releasing)
            let handlers = state.handlers.sorted { $0.key < $1.key }.map(\.value)
            state.handlers.removeAll()
            return handlers
        }
        for handler in handlers ?? [] { handler() }
    }

    /// The exit status the cancellation asked for.
    public var exitStatus: ExitStatus { ExitStatus(rawValue: status.load(ordering: .acquiring)) ?? .interrupted }

    /// Calls `handler` when the token is cancelled (at once, on this thread, if it already is).
    /// Returns a key for `remove`.
    @discardableResult
    public func onCancel(_ handler: @escaping @Sendable () -> Void) -> Int {
        let (key, runNow) = state.withLock { state in
            let key = state.nextKey
            state.nextKey += 1
            if state.cancelled { return (key, true) }
            state.handlers[key] = handler
            return (key, false)
        }
        if runNow { handler() }
        return key
    }

    /// Forgets a handler.
    public func remove(_ key: Int) { state.withLock { _ = $0.handlers.removeValue(forKey: key) } }

    /// Throws a cancelled step error when cancelled.
    public func check() throws(StepError) {
        if isCancelled { throw StepError(.cancelled, "interrupted") }
    }
}

/// Where a step sends its output: the runner's tee to every consumer.
///
/// One schema per stream: the schema given to `start(schema:)` is the contract for every batch of
/// the stream. No batch differs from it (same fields, types, nullability, precision and scale); a
/// producer that cannot know its types up front declares types every value fits or fails the step.
/// Sinks check it with `StreamContract.check`: a batch that differs fails the step with an internal error.
public protocol BatchSink: AnyObject, Sendable {
    /// Declares the output's schema, the schema of every batch sent after it; must come before the
    /// first batch (and also for empty outputs), once.
    func start(schema: Schema) throws(StepError)
    /// Sends one batch, whose schema is exactly the declared one; blocks while consumers are full,
    /// throws when the run is cancelled or the batch breaks the stream's schema.
    func send(_ batch: RecordBatch) throws(StepError)
}

/// Where a step reads one input from.
///
/// Every batch `next()` returns has exactly the schema `schema()` returns (see `BatchSink`).
public protocol BatchSource: AnyObject, Sendable {
    /// The input step's id.
    var stepID: String { get }
    /// The input's schema, the schema of every batch of it; waits for the producer to declare it.
    func schema() throws(StepError) -> Schema
    /// The next batch, with the input's schema, or nil at the end; throws when the producer failed or
    /// the run was cancelled.
    func next() throws(StepError) -> RecordBatch?
}

/// Counts rows and bytes for `step_progress` events and the step's totals.
public protocol ProgressReporter: Sendable {
    /// Adds to the rows and bytes the step has read.
    func read(rows: Int, bytes: Int)
    /// Adds to the rows and bytes the step has written; a writer calls it once its write is
    /// committed (the runner then records the commit for `--resume` at once).
    func wrote(rows: Int, bytes: Int)
    /// Records a file the step created, for `artifact_created`.
    func created(file path: String, bytes: Int, sha256: String)
}

/// A connection resolved for one step: the entry's fields with `${VAR}` replaced from the environment.
public struct ResolvedConnection: Sendable {
    /// The reference, such as `@pg.shop`.
    public var reference: String
    /// The canonical family: postgres, mysql, supabase, sqlite or filesystem.
    public var family: String
    /// The fields, resolved; secrets included (they are registered with the masker).
    public var fields: [String: JSONValue]

    /// Creates a resolved connection.
    public init(reference: String, family: String, fields: [String: JSONValue]) {
        self.reference = reference
        self.family = family
        self.fields = fields
    }
}

/// Everything a driver gets to run one step.
public struct StepContext: Sendable {
    /// The step as the manifest describes it, its config completed with the component spec's
    /// defaults (`ConfigDefaults`), so drivers keep no defaults of their own.
    public var step: ManifestStep
    /// The connection, for components that use one.
    public var connection: ResolvedConnection?
    /// Set when the run is interrupted.
    public var cancellation: CancellationToken
    /// Rows and bytes.
    public var progress: any ProgressReporter
    /// A folder for the step's temporary files, removed after the step.
    public var temporaryDirectory: String
    /// How much memory the step may use for its data before spilling to disk.
    public var memoryBudget: Int
    /// The run's secret masker.
    public var masker: SecretMasker
    /// The run the step belongs to, which an append records in its commit marker; nil outside a run
    /// (a driver called on its own), and then no marker is written.
    public var runID: String?
    /// The manifest fingerprint (`manifest_fp`) of the run, recorded beside the run id.
    public var manifestFingerprint: String

    /// Creates a step context.
    public init(
        step: ManifestStep, connection: ResolvedConnection?, cancellation: CancellationToken, progress: any ProgressReporter,
        temporaryDirectory: String, memoryBudget: Int, masker: SecretMasker, runID: String? = nil, manifestFingerprint: String = ""
    ) {
        self.step = step
        self.step.config = ConfigDefaults.filled(step.config, component: step.component)
        self.connection = connection
        self.cancellation = cancellation
        self.progress = progress
        self.temporaryDirectory = temporaryDirectory
        self.memoryBudget = memoryBudget
        self.masker = masker
        self.runID = runID
        self.manifestFingerprint = manifestFingerprint
    }

    /// A config value.
    public func config(_ key: String) -> JSONValue? {
        guard let value = step.config[key], value != .null else { return nil }
        return value
    }

    /// A string config value, or a configuration error naming the key.
    public func requiredString(_ key: String) throws(StepError) -> String {
        guard let text = config(key)?.stringValue, !text.isEmpty else {
            throw StepError(.configuration, "step '\(step.id)' needs config '\(key)'")
        }
        return text
    }
}

/// Reads data from a source.
public protocol Extractor: Sendable {
    /// Streams the source into `output`.
    func extract(_ context: StepContext, output: any BatchSink) throws(StepError)
}

/// Writes its one input to a target, all or nothing: a failure leaves the target as it was.
///
/// A write that is not idempotent (a database append) also records its commit in the target, in the
/// same transaction as the rows (a `CommitMarker`), so `--resume` can ask whether it happened.
public protocol Writer: Sendable {
    /// Consumes `input` and commits the write.
    func write(_ context: StepContext, input: any BatchSource) throws(StepError)
    /// Whether this step's write already committed in run `context.runID`: its commit marker is in the
    /// target. The runner asks on `--resume` for a writer that status.json does not record as committed.
    func hasCommitted(_ context: StepContext) throws(StepError) -> Bool
}

extension Writer {
    /// A writer that records no marker (its writes are idempotent: replace, files) never has one.
    public func hasCommitted(_ context: StepContext) throws(StepError) -> Bool { false }
}

/// Transforms any number of inputs into one output.
public protocol Processor: Sendable {
    /// Consumes every input and streams the result into `output`.
    func process(_ context: StepContext, inputs: [any BatchSource], output: any BatchSink) throws(StepError)
}

/// The driver of a component.
public enum Driver: Sendable {
    case extractor(any Extractor)
    case writer(any Writer)
    case processor(any Processor)
}
