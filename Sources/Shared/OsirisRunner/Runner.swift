import OML
import OsirisCore
import OsirisData
import OsirisDrivers
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a run is carried out.
public struct RunOptions: Sendable {
    /// The folder run directories are created in (`--run-dir`, default `.osiris/runs`).
    public var runDirectoryParent = ".osiris/runs"
    /// An earlier run's folder to resume (`--resume`).
    public var resume: String?
    /// How many steps run at once (`--jobs`).
    public var jobs = 2
    /// Where the connections come from.
    public var resolver: ConnectionResolver
    /// `local`, or `sandbox` when a worker runs the steps.
    public var adapter = "local"
    /// Memory one consumer's queue may hold; a producer waits for room, or spills to disk where waiting could deadlock.
    public var queueBudget = 16 << 20
    /// Memory a processor may use before its engine spills to disk.
    public var processorBudget = 256 << 20
    /// Extra places events go besides `events.jsonl` (standard output).
    public var eventSinks: [any EventSink] = []
    /// Called about once a second with a one-line summary, for a progress line on a terminal.
    public var onProgress: (@Sendable (String) -> Void)?
    /// What `run_start` says in `isolation` (none, bwrap, transport); nil leaves the field out (local runs).
    public var isolation: String?
    /// The run id to use instead of a new one (a worker runs under its host's run id).
    package var runID: String?
    /// Each step's connection as a host resolved it for a worker; nil resolves with `resolver`.
    package var preparedConnections: [String: PreparedConnection]?

    /// Options with a resolver; the rest defaults.
    public init(resolver: ConnectionResolver) { self.resolver = resolver }
}

extension RunOptions {
    /// A step's connection: the one a host prepared, else resolved here.
    func connection(for step: ManifestStep, family: String?) throws(StepError) -> ResolvedConnection? {
        guard let preparedConnections else { return try resolver.resolve(step, family: family) }
        switch preparedConnections[step.id] {
        case .resolved(let connection)?: return connection
        case .failed(let error)?: throw error
        case nil: return nil
        }
    }
}

/// A step that failed, as the run's summary lists it on standard error; the message is masked.
public struct FailedStep: Sendable, Equatable {
    /// The step id.
    public var stepID: String
    /// The error's class, such as `CONNECTION` (`INTERNAL` for a scheduler bug).
    public var code: String
    /// What went wrong, masked.
    public var message: String
}

/// What a run ended with.
public struct RunOutcome: Sendable {
    /// The run id.
    public var runID: String
    /// The run's folder.
    public var directory: String
    /// success, failed or aborted.
    public var status: String
    /// The exit status the tool ends with.
    public var exitStatus: ExitStatus
    /// The steps that failed, in the order they failed.
    public var failedSteps: [FailedStep]
}

/// Runs a manifest locally (DESIGN.md §7): steps start once every step they need has started, so
/// data streams between them, up to `jobs` at a time; a failed step fails the steps that need it
/// while independent branches finish; every step is reported as events.
///
/// The scheduler's state lives in one `TrackedMutex` (a `Synchronization.Mutex`); events are written
/// after it is released, so a slow standard output never holds up scheduling, and waits wake on a
/// `ChangeSignal` (a step ended, the run was interrupted) instead of polling.
public final class Runner: Sendable {
    private enum State: Equatable {
        case pending, running, succeeded, failed, skipped

        var isTerminal: Bool { self == .succeeded || self == .failed || self == .skipped }
        var hasStarted: Bool { self != .pending }
    }

    private struct Schedule {
        var states: [String: State] = [:]
        var running = 0
        var firstFailure: StepError?
        /// Set when the scheduler found steps that could never start (a bug): the run exits 70.
        var stuck = false
        var failedSteps: [FailedStep] = []
        var rowsWritten = 0
        /// Steps that did not stop within `abortGraceMilliseconds` of an interruption: the run ended
        /// without them, so they must not report anything any more.
        var abandoned: Set<String> = []
        /// Steps writing their last events; they are not abandoned.
        var reporting: Set<String> = []
    }

    /// What the scheduler decided under its lock, carried out after releasing it.
    private enum Action {
        case skip(ManifestStep, reason: String)
        case drop(ManifestStep)
        case start(ManifestStep)
        case abandon(ManifestStep)
        case stuck(ManifestStep, waitingFor: [String])
    }

    private let manifest: Manifest
    private let options: RunOptions
    private let cancellation: CancellationToken
    private let masker: SecretMasker
    private let drivers: DriverRegistry
    private let schedule = TrackedMutex(Schedule())
    private let changes = ChangeSignal()

    /// How long an interrupted run waits for its steps to stop (a read blocked on a pipe cannot be
    /// interrupted) before it ends without them.
    static let abortGraceMilliseconds = 3000

    /// A runner for `manifest`; `masker` already holds any secrets read before the run.
    public init(
        manifest: Manifest, options: RunOptions, cancellation: CancellationToken, masker: SecretMasker,
        drivers: DriverRegistry = DriverRegistry()
    ) {
        self.manifest = manifest
        self.options = options
        self.cancellation = cancellation
        self.masker = masker
        self.drivers = drivers
    }

    /// Runs every step and returns how the run ended. Throws only when the run directory cannot be
    /// created or resumed, before any event.
    public func run() throws(RunDirectoryError) -> RunOutcome {
        let started = MonotonicClock.milliseconds()
        let directory: RunDirectory
        if let resume = options.resume {
            directory = try RunDirectory.resume(path: resume, manifest: manifest, masker: masker)
        } else {
            directory = try RunDirectory.create(
                parent: options.runDirectoryParent, runID: options.runID ?? RunDirectory.newRunID(), manifest: manifest, masker: masker)
        }
        let eventsDescriptor = open(directory.eventsPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard eventsDescriptor >= 0 else {
            throw RunDirectoryError("cannot create '\(directory.eventsPath)': \(systemMessage(errno))")
        }
        defer { close(eventsDescriptor) }
        let events = RunEvents(EventStream(
            runID: directory.runID, sinks: options.eventSinks + [DescriptorEventSink(descriptor: eventsDescriptor)],
            masker: masker, firstSeq: directory.lastEventSeq() + 1))
        let wakeOnCancel = cancellation.onCancel { [changes] in changes.notify() }
        defer { cancellation.remove(wakeOnCancel) }

        var runStart: [String: JSONValue] = [
            "pipeline": .string(manifest.name), "manifest_fp": .string(manifest.fingerprints["manifest_fp"] ?? ""),
            "adapter": .string(options.adapter), "steps_total": .int(manifest.steps.count),
        ]
        if let isolation = options.isolation { runStart["isolation"] = .string(isolation) }
        events.emit("run_start", runStart)
        directory.log("run \(directory.runID) of '\(manifest.name)' started (\(manifest.steps.count) steps, \(options.jobs) at a time)")

        let plan = Plan(manifest: manifest, directory: directory, options: options, cancellation: cancellation, events: events)
        schedule.withLock { schedule in
            for step in manifest.steps { schedule.states[step.id] = .pending }
        }
        if !refuseUnrunnable(events: events, directory: directory) {
            runSchedule(plan, events: events, directory: directory)
        }

        let summary = schedule.withLock { ($0.firstFailure, $0.stuck, $0.failedSteps, $0.rowsWritten) }
        let status: String
        let exitStatus: ExitStatus
        if cancellation.isCancelled {
            status = "aborted"
            exitStatus = cancellation.exitStatus
        } else if summary.1 {
            status = "failed"
            exitStatus = .software
        } else if let firstFailure = summary.0 {
            status = "failed"
            exitStatus = firstFailure.exitStatus == .interrupted ? .failure : firstFailure.exitStatus
        } else {
            status = "success"
            exitStatus = .success
        }
        let duration = MonotonicClock.milliseconds() - started
        try? directory.saveStatus(status)
        directory.log("run \(directory.runID) ended: \(status) (exit \(exitStatus.rawValue), \(duration) ms)")
        FileSystem.remove(plan.spillDirectory)
        events.finish("run_end", [
            "status": .string(status), "exit_code": .int(Int(exitStatus.rawValue)), "duration_ms": .int(duration),
            "rows_written": .int(summary.3),
        ])
        return RunOutcome(
            runID: directory.runID, directory: directory.path, status: status, exitStatus: exitStatus, failedSteps: summary.2)
    }

    // MARK: Scheduling

    /// Fails the run before any step starts when a step's component has no driver in this build, so
    /// a pipeline never half runs (its extracts done) only to stop at a step that could never run.
    /// Returns true when it did.
    private func refuseUnrunnable(events: RunEvents, directory: RunDirectory) -> Bool {
        let unrunnable = manifest.steps.compactMap { step in unrunnableReason(step).map { (step, $0) } }
        guard !unrunnable.isEmpty else { return false }
        for (step, reason) in unrunnable {
            let error = StepError(.run, "component '\(step.component)' cannot run in this build of osiris-exec: \(reason); no step was run")
            fail(step, error, events: events, directory: directory, rowsRead: 0)
        }
        schedule.withLock { schedule in
            for step in manifest.steps where schedule.states[step.id] == .pending { schedule.states[step.id] = .skipped }
        }
        return true
    }

    /// Why this build cannot run `step`, or nil when it can: its spec says it needs an engine this
    /// build lacks (`x-runnable: false`, with the alternative of `x-alternative`), or it has no driver.
    private func unrunnableReason(_ step: ManifestStep) -> String? {
        if let spec = ComponentRegistry.builtin.spec(named: step.component), !spec.runnable {
            let instead = spec.alternative.map { "; use 'component: \($0)' instead" } ?? ""
            return "it needs an engine this build does not include\(instead)"
        }
        guard drivers.driver(for: step.component) == nil else { return nil }
        let runnable = drivers.components.filter { ComponentRegistry.builtin.spec(named: $0)?.runnable != false }
        return "its driver is not part of it yet (this build runs \(runnable.joined(separator: ", ")))"
    }

    private func runSchedule(_ plan: Plan, events: RunEvents, directory: RunDirectory) {
        var cancelledAt: Int?
        while true {
            let graceDeadline = cancelledAt.map { $0 + Self.abortGraceMilliseconds }
            let finished = changes.wait(deadline: graceDeadline.map { $0 + 1 }) { () -> Bool? in
                if cancellation.isCancelled, cancelledAt == nil { cancelledAt = MonotonicClock.milliseconds() }
                let graceOver = cancelledAt.map { MonotonicClock.milliseconds() - $0 >= Self.abortGraceMilliseconds } ?? false
                let (actions, done) = decide(directory: directory, graceOver: graceOver)
                // Every step of this round counts as running before any of them sends a batch, so a
                // producer does not spill to a reader that is about to start.
                for case .start(let step) in actions { plan.exchange.started(step.id) }
                for action in actions { perform(action, plan: plan, events: events, directory: directory) }
                // A new interruption needs a deadline: go round once more to set it.
                if done { return true }
                return cancelledAt != nil && graceDeadline == nil ? false : nil
            }
            if finished == true { return }
        }
    }

    /// Settles, starts, gives up on or abandons steps under the lock; returns what to do and whether
    /// every step has ended.
    private func decide(directory: RunDirectory, graceOver: Bool) -> ([Action], Bool) {
        let cancelled = cancellation.isCancelled
        return schedule.withLock { schedule -> ([Action], Bool) in
            var actions: [Action] = []
            if cancelled {
                // Steps of an interrupted run that never started get no event (DESIGN.md §7.4).
                for step in manifest.steps where schedule.states[step.id] == .pending {
                    schedule.states[step.id] = .skipped
                    actions.append(.drop(step))
                }
            } else {
                var changed = true
                while changed {
                    changed = false
                    for step in manifest.steps where schedule.states[step.id] == .pending {
                        if let reason = skipReason(step, states: schedule.states, directory: directory) {
                            schedule.states[step.id] = .skipped
                            actions.append(.skip(step, reason: reason))
                            changed = true
                        }
                    }
                }
                for step in manifest.steps where schedule.states[step.id] == .pending && schedule.running < options.jobs {
                    guard step.needs.allSatisfy({ schedule.states[$0]?.hasStarted == true }) else { continue }
                    schedule.states[step.id] = .running
                    schedule.running += 1
                    actions.append(.start(step))
                }
                // Nothing runs and nothing can start: waiting would be for ever.
                if schedule.running == 0 {
                    for step in manifest.steps where schedule.states[step.id] == .pending {
                        schedule.states[step.id] = .failed
                        schedule.stuck = true
                        let waiting = step.needs.filter { schedule.states[$0]?.hasStarted != true }
                        actions.append(.stuck(step, waitingFor: waiting))
                    }
                }
            }
            if graceOver {
                for step in manifest.steps where schedule.states[step.id] == .running && !schedule.reporting.contains(step.id) {
                    schedule.abandoned.insert(step.id)
                    schedule.states[step.id] = .failed
                    actions.append(.abandon(step))
                }
            }
            return (actions, schedule.states.values.allSatisfy(\.isTerminal))
        }
    }

    private func perform(_ action: Action, plan: Plan, events: RunEvents, directory: RunDirectory) {
        switch action {
        case .skip(let step, let reason):
            for subscription in plan.inputs[step.id] ?? [] { subscription.abandon() }
            plan.tees[step.id]?.finish(StepError(.upstreamFailed, "step '\(step.id)' was skipped"))
            events.emit("step_skipped", ["step_id": .string(step.id), "reason": .string(reason)])
            directory.log("step \(step.id) skipped (\(reason))")
            directory.update(step.id) { $0.state = "skipped" }
        case .drop(let step):
            for subscription in plan.inputs[step.id] ?? [] { subscription.abandon() }
            plan.tees[step.id]?.finish(StepError(.cancelled, "interrupted"))
        case .start(let step):
            startThread { [self] in
                let state = self.execute(step, plan: plan, events: events, directory: directory)
                plan.exchange.stopped(step.id)
                self.schedule.withLock { schedule in
                    if !schedule.abandoned.contains(step.id) { schedule.states[step.id] = state }
                    schedule.running -= 1
                    schedule.reporting.remove(step.id)
                }
                self.changes.notify()
            }
        case .abandon(let step):
            let error = StepError(.cancelled, "interrupted; the step did not stop within \(Self.abortGraceMilliseconds / 1000) s")
            events.emit("step_failed", ["step_id": .string(step.id), "error": Self.json(error)])
            directory.log("step \(step.id) abandoned: it did not stop after the interruption")
            directory.update(step.id) { $0.state = "failed" }
            record(step, error)
        case .stuck(let step, let waiting):
            let names = waiting.map { "'\($0)'" }.joined(separator: ", ")
            let message = "internal error: the scheduler is stuck: nothing runs and step '\(step.id)' cannot start"
                + (waiting.isEmpty ? "" : " (it needs \(names), which never started)") + "; please report this bug"
            fail(step, StepError(.internalError, message), events: events, directory: directory, rowsRead: 0)
        }
    }

    /// Why a pending step will not run, or nil when it may.
    private func skipReason(_ step: ManifestStep, states: [String: State], directory: RunDirectory) -> String? {
        if step.mode == .write, directory.isCommitted(step.id) { return "resumed" }
        if step.needs.contains(where: { states[$0] == .failed || states[$0] == .skipped }) { return "upstream_failed" }
        return nil
    }

    /// Claims the right to write a step's last events; false when the run already abandoned it.
    private func claimReport(_ step: String) -> Bool {
        schedule.withLock { schedule in
            guard !schedule.abandoned.contains(step) else { return false }
            schedule.reporting.insert(step)
            return true
        }
    }

    // MARK: Running one step

    private func execute(_ step: ManifestStep, plan: Plan, events: RunEvents, directory: RunDirectory) -> State {
        let progress = plan.progress[step.id]!
        let movement = progress.movement
        let tee = plan.tees[step.id] ?? BatchTee(subscriptions: [])
        let inputs = plan.inputs[step.id] ?? []
        let family = ComponentRegistry.builtin.spec(named: step.component)?.family
        if let settled = resumeByMarker(step, plan: plan, events: events, directory: directory) { return settled }
        // A step with inputs starts once every input has declared its output: an input that fails
        // before that means the step never ran, which is reported as skipped, not failed.
        for input in inputs {
            do throws(StepError) {
                _ = try input.schema()
            } catch {
                for subscription in inputs { subscription.abandon() }
                tee.finish(error)
                if error.code == .cancelled || cancellation.isCancelled || !claimReport(step.id) { return .skipped }
                events.emit("step_skipped", ["step_id": .string(step.id), "reason": "upstream_failed"])
                directory.log("step \(step.id) skipped (upstream_failed): \(error.message)")
                directory.update(step.id) { $0.state = "skipped" }
                return .skipped
            }
        }
        let started = MonotonicClock.milliseconds()
        var attempt = 1
        var failure: StepError?
        let temporary = plan.spillDirectory + "/" + step.id + ".tmp"
        while true {
            events.emit("step_start", ["step_id": .string(step.id), "component": .string(step.component), "attempt": .int(attempt)])
            directory.log("step \(step.id) started (\(step.component), attempt \(attempt))")
            directory.update(step.id) {
                $0.state = "running"
                $0.attempts = attempt
            }
            progress.reset()
            do throws(StepError) {
                try cancellation.check()
                try? FileSystem.createDirectories(temporary)
                let connection = try options.connection(for: step, family: family)
                let context = self.context(step, connection: connection, progress: progress, temporary: temporary, directory: directory)
                guard let driver = drivers.driver(for: step.component) else {
                    throw StepError(.run, "component '\(step.component)' cannot run in this build of osiris-exec")
                }
                switch driver {
                case .extractor(let extractor):
                    try extractor.extract(context, output: tee)
                case .writer(let writer):
                    guard let input = inputs.first, inputs.count == 1 else {
                        throw StepError(.run, "writer '\(step.id)' needs exactly one input, not \(inputs.count)")
                    }
                    try writer.write(context, input: input)
                case .processor(let processor):
                    try processor.process(context, inputs: inputs, output: tee)
                }
                failure = nil
            } catch {
                failure = error
            }
            FileSystem.remove(temporary)
            guard let error = failure, error.retryable, attempt < step.retry.attempts, !cancellation.isCancelled else { break }
            // Only the runner's own observations count: what the driver says it read does not.
            if let moved = movement.reason {
                failure = StepError(error.code, "\(error.message) (not retried: \(moved))", retryable: true)
                directory.log("step \(step.id) is not retried after a retryable error: \(moved)")
                break
            }
            events.emit("step_retry", ["step_id": .string(step.id), "attempt": .int(attempt), "error": Self.json(error)])
            directory.log("step \(step.id) will retry after: \(error.message)")
            sleepForRetry(attempt: attempt, backoff: step.retry.backoffMilliseconds)
            attempt += 1
        }

        guard claimReport(step.id) else { return .failed }
        let totals = progress.totals
        if let failure {
            tee.finish(failure)
            for subscription in inputs { subscription.abandon() }
            let error = cancellation.isCancelled && failure.code != .cancelled ? StepError(.cancelled, "interrupted") : failure
            fail(step, error, events: events, directory: directory, rowsRead: totals.rowsRead)
            return .failed
        }
        tee.finish(nil)
        for subscription in inputs { subscription.abandon() }
        for artifact in totals.artifacts {
            events.emit("artifact_created", [
                "step_id": .string(step.id), "path": .string(artifact.path), "bytes": .int(artifact.bytes),
                "sha256": .string(artifact.sha256),
            ])
        }
        let isWriter = step.mode == .write
        let rowsOut = isWriter ? totals.rowsWritten : totals.rowsEmitted
        let bytes = isWriter ? totals.bytesWritten : (step.mode == .extract ? totals.bytesRead : totals.bytesEmitted)
        if isWriter { schedule.withLock { $0.rowsWritten += totals.rowsWritten } }
        let duration = MonotonicClock.milliseconds() - started
        events.emit("step_complete", [
            "step_id": .string(step.id), "rows_read": .int(totals.rowsRead), "rows_written": .int(rowsOut),
            "bytes": .int(bytes), "duration_ms": .int(duration),
        ])
        directory.log("step \(step.id) completed: \(totals.rowsRead) rows read, \(rowsOut) written, \(bytes) bytes, \(duration) ms")
        directory.update(step.id) {
            $0.state = "succeeded"
            $0.committed = isWriter
            $0.rowsRead = totals.rowsRead
            $0.rowsWritten = rowsOut
        }
        return .succeeded
    }

    /// What a driver gets to run `step` in this run.
    private func context(
        _ step: ManifestStep, connection: ResolvedConnection?, progress: StepProgress, temporary: String, directory: RunDirectory
    ) -> StepContext {
        StepContext(
            step: step, connection: connection, cancellation: cancellation, progress: progress, temporaryDirectory: temporary,
            memoryBudget: options.processorBudget, masker: masker, runID: directory.runID, manifestFingerprint: directory.manifestFingerprint)
    }

    /// On `--resume`, asks the writer of a step that status.json does not record as committed whether
    /// its commit marker is in the target (a kill between the server's COMMIT and status.json leaves
    /// exactly that). The runner decides from the writer's answer, never from events: found, the step
    /// is skipped as resumed, like a skip status.json decides, and recorded as committed. Returns the
    /// state the step ends in when the question settled it, nil when the step is to run.
    private func resumeByMarker(_ step: ManifestStep, plan: Plan, events: RunEvents, directory: RunDirectory) -> State? {
        guard options.resume != nil, step.mode == .write, case .writer(let writer)? = drivers.driver(for: step.component) else { return nil }
        let family = ComponentRegistry.builtin.spec(named: step.component)?.family
        var attempt = 1
        var failure: StepError?
        while true {
            do throws(StepError) {
                try cancellation.check()
                // A connection that does not resolve fails the step when it runs, with its usual error.
                let connection: ResolvedConnection?
                do throws(StepError) {
                    connection = try options.connection(for: step, family: family)
                } catch {
                    return nil
                }
                let context = self.context(
                    step, connection: connection, progress: plan.progress[step.id]!, temporary: plan.spillDirectory, directory: directory)
                guard try writer.hasCommitted(context) else { return nil }
                failure = nil
            } catch {
                failure = error
            }
            guard let error = failure, error.retryable, attempt < step.retry.attempts, !cancellation.isCancelled else { break }
            directory.log("step \(step.id): cannot tell whether it committed, will retry: \(error.message)")
            sleepForRetry(attempt: attempt, backoff: step.retry.backoffMilliseconds)
            attempt += 1
        }
        for subscription in plan.inputs[step.id] ?? [] { subscription.abandon() }
        // Steps of an interrupted run that never started get no event.
        if cancellation.isCancelled || !claimReport(step.id) { return .skipped }
        if let failure {
            let error = StepError(failure.code, "cannot tell whether the step committed in the run being resumed: \(failure.message)",
                                  retryable: failure.retryable)
            fail(step, error, events: events, directory: directory, rowsRead: 0)
            return .failed
        }
        events.emit("step_skipped", ["step_id": .string(step.id), "reason": "resumed"])
        directory.log("step \(step.id) skipped (resumed): its commit marker is in the target")
        directory.update(step.id) {
            $0.state = "skipped"
            $0.committed = true
        }
        return .skipped
    }

    /// Reports a failed step and records its error for the run's exit status and summary.
    private func fail(_ step: ManifestStep, _ error: StepError, events: RunEvents, directory: RunDirectory, rowsRead: Int) {
        events.emit("step_failed", ["step_id": .string(step.id), "error": Self.json(error)])
        directory.log("step \(step.id) failed: \(error.code.rawValue): \(error.message)")
        directory.update(step.id) {
            $0.state = "failed"
            $0.error = Self.json(error)
            $0.rowsRead = rowsRead
            $0.rowsWritten = 0
        }
        record(step, error)
    }

    /// Keeps a failed step's error: the run ends with its root cause, so an input's failure seen
    /// downstream counts only when nothing else failed.
    private func record(_ step: ManifestStep, _ error: StepError) {
        let failed = FailedStep(stepID: step.id, code: error.code.rawValue, message: masker.mask(error.message))
        schedule.withLock { schedule in
            schedule.failedSteps.append(failed)
            if error.code != .cancelled,
               schedule.firstFailure == nil || (schedule.firstFailure?.code == .upstreamFailed && error.code != .upstreamFailed) {
                schedule.firstFailure = error
            }
        }
    }

    /// Waits `backoff * 2^(attempt-1)` milliseconds with ±50 % jitter, waking at once on cancellation.
    private func sleepForRetry(attempt: Int, backoff: Int) {
        let base = Double(backoff) * Double(1 << min(attempt - 1, 20))
        let delay = Int(base * Double.random(in: 0.5...1.5))
        _ = changes.wait(deadline: MonotonicClock.milliseconds() + delay) { cancellation.isCancelled ? true : nil }
    }

    static func json(_ error: StepError) -> JSONValue {
        ["code": .string(error.code.rawValue), "message": .string(error.message), "retryable": .bool(error.retryable)]
    }
}

/// The run's event stream, closed by `run_end`: a step abandoned after an interruption that wakes
/// up later cannot write after the last event.
final class RunEvents: Sendable {
    private let stream: TrackedMutex<EventStream?>

    init(_ stream: EventStream) { self.stream = TrackedMutex(stream) }

    /// Emits one event unless the run has ended.
    func emit(_ event: String, _ fields: [String: JSONValue] = [:]) {
        stream.withLock { _ = $0?.emit(event, fields) }
    }

    /// Emits the last event and closes the stream.
    func finish(_ event: String, _ fields: [String: JSONValue]) {
        stream.withLock { stream in
            _ = stream?.emit(event, fields)
            stream = nil
        }
    }
}

/// The wiring of a run: one tee per producing step, one subscription per (producer, consumer) pair,
/// and each step's counters.
private struct Plan {
    var tees: [String: BatchTee] = [:]
    var inputs: [String: [Subscription]] = [:]
    var progress: [String: StepProgress] = [:]
    let exchange: Exchange
    let spillDirectory: String

    init(manifest: Manifest, directory: RunDirectory, options: RunOptions, cancellation: CancellationToken, events: RunEvents) {
        spillDirectory = directory.path + "/spill"
        try? FileSystem.createDirectories(spillDirectory)
        exchange = Exchange(memoryBudget: options.queueBudget, cancellation: cancellation) { [directory] producer, consumer, reason in
            directory.log("output of step \(producer) spills to disk for step \(consumer): \(reason)")
        }
        for step in manifest.steps {
            // A writer reports its rows once they are committed: status.json says so at once, so that
            // a run killed between the commit and the step's end is not written twice by --resume.
            let id = step.id, isWriter = step.mode == .write
            let committed: @Sendable () -> Void = {
                if isWriter { directory.update(id) { $0.committed = true } }
            }
            progress[step.id] = StepProgress(stepID: step.id, events: events, movement: DataMovement(), onCommit: committed) { [options] id, rows in
                options.onProgress?("\(id): \(rows) rows")
            }
        }
        var subscriptionsByProducer: [String: [Subscription]] = [:]
        for step in manifest.steps {
            var subscriptions: [Subscription] = []
            for need in step.needs {
                let subscription = Subscription(
                    producer: need, consumer: step.id, exchange: exchange,
                    spillPath: "\(spillDirectory)/\(need)--\(step.id).batches", movement: progress[step.id]?.movement)
                subscriptions.append(subscription)
                subscriptionsByProducer[need, default: []].append(subscription)
            }
            inputs[step.id] = subscriptions
        }
        for step in manifest.steps where step.mode != .write {
            tees[step.id] = BatchTee(
                subscriptions: subscriptionsByProducer[step.id] ?? [], progress: progress[step.id], movement: progress[step.id]?.movement)
        }
    }
}
