import OsirisCore
import OsirisDrivers

/// Counts one step's rows and bytes and emits `step_progress` at most about once a second.
final class StepProgress: ProgressReporter, Sendable {
    struct Totals {
        var rowsRead = 0
        var bytesRead = 0
        var rowsWritten = 0
        var bytesWritten = 0
        var rowsEmitted = 0
        var bytesEmitted = 0
        var lastReport = 0
        var artifacts: [(path: String, bytes: Int, sha256: String)] = []
    }

    /// The least time between two `step_progress` events of one step.
    static let intervalMilliseconds = 1000

    let stepID: String
    /// What passed through the step, for its retry decision.
    let movement: DataMovement
    private let events: RunEvents
    private let onTick: @Sendable (String, Int) -> Void
    /// Called when a writer reports written rows: they are committed (DESIGN.md §7.3).
    private let onCommit: @Sendable () -> Void
    private let state = TrackedMutex(Totals())

    init(
        stepID: String, events: RunEvents, movement: DataMovement, onCommit: @escaping @Sendable () -> Void = {},
        onTick: @escaping @Sendable (String, Int) -> Void
    ) {
        self.stepID = stepID
        self.movement = movement
        self.events = events
        self.onCommit = onCommit
        self.onTick = onTick
        state.withLock { $0.lastReport = MonotonicClock.milliseconds() }
    }

    var totals: Totals { state.withLock { $0 } }

    func read(rows: Int, bytes: Int) {
        state.withLock {
            $0.rowsRead += rows
            $0.bytesRead += bytes
        }
        tick()
    }

    func wrote(rows: Int, bytes: Int) {
        movement.record("it had written rows")
        state.withLock {
            $0.rowsWritten += rows
            $0.bytesWritten += bytes
        }
        onCommit()
        tick()
    }

    /// Rows and bytes sent downstream.
    func emitted(rows: Int, bytes: Int) {
        state.withLock {
            $0.rowsEmitted += rows
            $0.bytesEmitted += bytes
        }
        tick()
    }

    func created(file path: String, bytes: Int, sha256: String) {
        movement.record("it had created '\(path)'")
        state.withLock { $0.artifacts.append((path, bytes, sha256)) }
    }

    /// Forgets the counts of a failed attempt before a retry.
    func reset() {
        state.withLock { state in
            let last = state.lastReport
            state = Totals()
            state.lastReport = last
        }
    }

    /// Rows the step has handled so far: what it read, or what it produced when it reads nothing.
    private static func rows(_ totals: Totals) -> Int { max(totals.rowsRead, totals.rowsEmitted, totals.rowsWritten) }
    private static func bytes(_ totals: Totals) -> Int { max(totals.bytesRead, totals.bytesEmitted, totals.bytesWritten) }

    private func tick() {
        let now = MonotonicClock.milliseconds()
        let report: Totals? = state.withLock { state in
            guard now - state.lastReport >= Self.intervalMilliseconds else { return nil }
            state.lastReport = now
            return state
        }
        guard let report else { return }
        events.emit("step_progress", ["step_id": .string(stepID), "rows": .int(Self.rows(report)), "bytes": .int(Self.bytes(report))])
        onTick(stepID, Self.rows(report))
    }
}
