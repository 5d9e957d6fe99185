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
    /// Memory one consumer's queue may hold before the tee spills to disk.
    public var queueBudget = 16 << 20
    /// Memory a processor may use before its engine spills to disk.
    public var processorBudget = 256 << 20
    /// Extra places events go besides `events.jsonl` (standard output).
    public var eventSinks: [any EventSink] = []
    /// Called about once a second with a one-line summary, for a progress line on a terminal.
    public var onProgress: (@Sendable (String) -> Void)?

    /// Options with a resolver; the rest defaults.
    public init(resolver: ConnectionResolver) { self.resolver = resolver }
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
}

/// Runs a manifest locally (DESIGN.md §7): steps start once every step they need has started, so
/// data streams between them, up to `jobs` at a time; a failed step fails the steps that need it
/// while independent branches finish; every step is reported as events.
public final class Runner: @unchecked Sendable {
    private enum State: Equatable {
        case pending, running, succeeded, failed, skipped

        var isTerminal: Bool { self == .succeeded || self == .failed || self == .skipped }
        var hasStarted: Bool { self != .pending }
    }

    private let manifest: Manifest
    private let options: RunOptions
    private let cancellation: CancellationToken
    private let masker: SecretMasker
    private let drivers: DriverRegistry
    private let monitor = Monitor()
    private var states: [String: State] = [:]
    private var firstFailure: StepError?
    private var rowsWritten = 0
    private var running = 0
    /// Steps that did not stop within `abortGraceMilliseconds` of an interruption: the run ended
    /// without them, so they must not report anything any more.
    private var abandonedSteps: Set<String> = []

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
                parent: options.runDirectoryParent, runID: RunDirectory.newRunID(), manifest: manifest, masker: masker)
        }
        let eventsDescriptor = open(directory.eventsPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard eventsDescriptor >= 0 else {
            throw RunDirectoryError("cannot create '\(directory.eventsPath)': \(systemMessage(errno))")
        }
        defer { close(eventsDescriptor) }
        let events = EventStream(
            runID: directory.runID, sinks: options.eventSinks + [DescriptorEventSink(descriptor: eventsDescriptor)],
            masker: masker, firstSeq: directory.lastEventSeq() + 1)

        events.emit("run_start", [
            "pipeline": .string(manifest.name), "manifest_fp": .string(manifest.fingerprints["manifest_fp"] ?? ""),
            "adapter": .string(options.adapter), "steps_total": .int(manifest.steps.count),
        ])
        directory.log("run \(directory.runID) of '\(manifest.name)' started (\(manifest.steps.count) steps, \(options.jobs) at a time)")

        let plan = Plan(manifest: manifest, directory: directory, options: options, cancellation: cancellation)
        for step in manifest.steps { states[step.id] = .pending }
        schedule(plan, events: events, directory: directory)

        let status: String
        let exitStatus: ExitStatus
        if cancellation.isCancelled {
            status = "aborted"
            exitStatus = cancellation.exitStatus
        } else if let firstFailure {
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
        events.emit("run_end", [
            "status": .string(status), "exit_code": .int(Int(exitStatus.rawValue)), "duration_ms": .int(duration),
            "rows_written": .int(monitor.locked { rowsWritten }),
        ])
        return RunOutcome(runID: directory.runID, directory: directory.path, status: status, exitStatus: exitStatus)
    }

    // MARK: Scheduling

    private func schedule(_ plan: Plan, events: EventStream, directory: RunDirectory) {
        var cancelledAt: Int?
        monitor.locked {
            while true {
                // Settle what can be settled: resumed writers and steps whose inputs failed.
                var changed = true
                while changed {
                    changed = false
                    for step in manifest.steps where states[step.id] == .pending {
                        if let reason = skipReason(step, directory: directory) {
                            states[step.id] = .skipped
                            for subscription in plan.inputs[step.id] ?? [] { subscription.abandon() }
                            plan.tees[step.id]?.finish(StepError(.upstreamFailed, "step '\(step.id)' was skipped"))
                            events.emit("step_skipped", ["step_id": .string(step.id), "reason": .string(reason)])
                            directory.log("step \(step.id) skipped (\(reason))")
                            directory.update(step.id) { $0.state = "skipped" }
                            changed = true
                        }
                    }
                }
                if cancellation.isCancelled {
                    for step in manifest.steps where states[step.id] == .pending {
                        states[step.id] = .skipped
                        for subscription in plan.inputs[step.id] ?? [] { subscription.abandon() }
                        plan.tees[step.id]?.finish(StepError(.cancelled, "interrupted"))
                    }
                }
                // Start what may start, in manifest order.
                for step in manifest.steps where states[step.id] == .pending && running < options.jobs && !cancellation.isCancelled {
                    guard step.needs.allSatisfy({ states[$0]?.hasStarted == true }) else { continue }
                    states[step.id] = .running
                    running += 1
                    startThread { [self] in
                        let state = self.execute(step, plan: plan, events: events, directory: directory)
                        self.monitor.locked {
                            self.states[step.id] = state
                            self.running -= 1
                            self.monitor.broadcast()
                        }
                    }
                }
                if states.values.allSatisfy(\.isTerminal) { break }
                if cancellation.isCancelled {
                    if cancelledAt == nil { cancelledAt = MonotonicClock.milliseconds() }
                    if MonotonicClock.milliseconds() - cancelledAt! > Self.abortGraceMilliseconds {
                        for step in manifest.steps where states[step.id] == .running {
                            abandonedSteps.insert(step.id)
                            states[step.id] = .failed
                            events.emit("step_failed", ["step_id": .string(step.id), "error": Self.json(StepError(
                                .cancelled, "interrupted; the step did not stop within \(Self.abortGraceMilliseconds / 1000) s"))])
                            directory.log("step \(step.id) abandoned: it did not stop after the interruption")
                            directory.update(step.id) { $0.state = "failed" }
                        }
                        break
                    }
                }
                monitor.wait(milliseconds: 250)
            }
        }
    }

    /// Why a pending step will not run, or nil when it may.
    private func skipReason(_ step: ManifestStep, directory: RunDirectory) -> String? {
        if step.mode == "write", directory.isCommitted(step.id) { return "resumed" }
        if step.needs.contains(where: { states[$0] == .failed || states[$0] == .skipped }) { return "upstream_failed" }
        return nil
    }

    // MARK: Running one step

    private func execute(_ step: ManifestStep, plan: Plan, events: EventStream, directory: RunDirectory) -> State {
        let progress = StepProgress(stepID: step.id, events: events) { [options] id, rows in
            options.onProgress?("\(id): \(rows) rows")
        }
        let tee = plan.tees[step.id] ?? BatchTee(subscriptions: [])
        tee.progress = progress
        let inputs = plan.inputs[step.id] ?? []
        let family = ComponentRegistry.builtin.spec(named: step.component)?.family
        // A step with inputs starts once every input has declared its output: an input that fails
        // before that means the step never ran, which is reported as skipped, not failed.
        for input in inputs {
            do throws(StepError) {
                _ = try input.schema()
            } catch {
                for subscription in inputs { subscription.abandon() }
                tee.finish(error)
                if error.code == .cancelled { return .skipped }
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
                let connection = try options.resolver.resolve(step, family: family)
                let context = StepContext(
                    step: step, connection: connection, cancellation: cancellation, progress: progress,
                    temporaryDirectory: temporary, memoryBudget: options.processorBudget, masker: masker)
                guard let driver = drivers.driver(for: step.component) else {
                    throw StepError(.run, "component '\(step.component)' cannot run in this build of osiris-exec: its driver is not part of it yet (this build runs \(drivers.components.filter { $0 != "duckdb.processor" }.joined(separator: ", ")))")
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
            guard let error = failure, error.retryable, attempt < step.retry.attempts, !progress.hasMovedData,
                  !cancellation.isCancelled
            else { break }
            events.emit("step_retry", ["step_id": .string(step.id), "attempt": .int(attempt), "error": Self.json(error)])
            directory.log("step \(step.id) will retry after: \(error.message)")
            sleepForRetry(attempt: attempt, backoff: step.retry.backoffMilliseconds)
            attempt += 1
        }

        return monitor.locked { () -> State in
            if abandonedSteps.contains(step.id) { return .failed }
            return report(step, failure: failure, progress: progress, tee: tee, inputs: inputs, started: started,
                          events: events, directory: directory)
        }
    }

    /// Reports how a step ended; called holding the monitor, so an abandoned step stays silent.
    private func report(
        _ step: ManifestStep, failure: StepError?, progress: StepProgress, tee: BatchTee, inputs: [Subscription],
        started: Int, events: EventStream, directory: RunDirectory
    ) -> State {
        let totals = progress.totals
        let duration = MonotonicClock.milliseconds() - started
        if let failure {
            tee.finish(failure)
            for subscription in inputs { subscription.abandon() }
            let error = cancellation.isCancelled && failure.code != .cancelled ? StepError(.cancelled, "interrupted") : failure
            // The run ends with its root cause: an input's failure seen downstream counts only when
            // nothing else failed.
            if error.code != .cancelled,
               firstFailure == nil || (firstFailure?.code == .upstreamFailed && error.code != .upstreamFailed) {
                firstFailure = error
            }
            events.emit("step_failed", ["step_id": .string(step.id), "error": Self.json(error)])
            directory.log("step \(step.id) failed: \(error.code.rawValue): \(error.message)")
            directory.update(step.id) {
                $0.state = "failed"
                $0.error = Self.json(error)
                $0.rowsRead = totals.rowsRead
                $0.rowsWritten = 0
            }
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
        let isWriter = step.mode == "write"
        let rowsOut = isWriter ? totals.rowsWritten : totals.rowsEmitted
        let bytes = isWriter ? totals.bytesWritten : (step.mode == "extract" ? totals.bytesRead : totals.bytesEmitted)
        if isWriter { rowsWritten += totals.rowsWritten }
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

    /// Waits `backoff * 2^(attempt-1)` milliseconds with ±50 % jitter, waking early on cancellation.
    private func sleepForRetry(attempt: Int, backoff: Int) {
        let base = Double(backoff) * Double(1 << min(attempt - 1, 20))
        let delay = Int(base * Double.random(in: 0.5...1.5))
        let deadline = MonotonicClock.milliseconds() + delay
        while !cancellation.isCancelled, MonotonicClock.milliseconds() < deadline {
            usleep(UInt32(min(50, max(1, deadline - MonotonicClock.milliseconds())) * 1000))
        }
    }

    static func json(_ error: StepError) -> JSONValue {
        ["code": .string(error.code.rawValue), "message": .string(error.message), "retryable": .bool(error.retryable)]
    }
}

/// The wiring of a run: one tee per producing step, one subscription per (producer, consumer) pair.
private struct Plan {
    var tees: [String: BatchTee] = [:]
    var inputs: [String: [Subscription]] = [:]
    let spillDirectory: String

    init(manifest: Manifest, directory: RunDirectory, options: RunOptions, cancellation: CancellationToken) {
        spillDirectory = directory.path + "/spill"
        try? FileSystem.createDirectories(spillDirectory)
        var subscriptionsByProducer: [String: [Subscription]] = [:]
        for step in manifest.steps {
            var subscriptions: [Subscription] = []
            for need in step.needs {
                let subscription = Subscription(
                    stepID: need, memoryBudget: options.queueBudget,
                    spillPath: "\(spillDirectory)/\(need)--\(step.id).batches", cancellation: cancellation)
                subscriptions.append(subscription)
                subscriptionsByProducer[need, default: []].append(subscription)
            }
            inputs[step.id] = subscriptions
        }
        for step in manifest.steps where step.mode != "write" {
            tees[step.id] = BatchTee(subscriptions: subscriptionsByProducer[step.id] ?? [])
        }
    }
}
