import Foundation
import OML
import OsirisCore
import OsirisData
import OsirisDrivers
@testable import OsirisRunner
import Synchronization
import Testing

/// An extractor that fails with a given error a number of times, then yields one row.
final class FlakyExtractor: Extractor, Sendable {
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
        // What a driver reports reading does not stop a retry: only what the runner saw move.
        context.progress.read(rows: 1, bytes: 8)
        if call <= failures { throw error }
        try output.start(schema: numberSchema)
        try output.send(numbers(call..<(call + 1)))
    }
}

@Suite struct RunnerTests {
    let folder = TemporaryFolder()

    func run(_ extractor: FlakyExtractor, attempts: Int) throws -> (RunOutcome, [JSONValue]) {
        try runSteps(
            [testStep("read", "test.flaky", .extract, attempts: attempts), testStep("write", "test.counting", .write, needs: ["read"])],
            drivers: ["test.flaky": .extractor(extractor), "test.counting": .writer(CountingWriter())], folder: folder)
    }

    @Test func aRetryableErrorIsRetriedThenSucceeds() throws {
        let extractor = FlakyExtractor(failures: 2, error: StepError(.connection, "connection refused"))
        let (outcome, events) = try run(extractor, attempts: 3)
        #expect(outcome.exitStatus == .success)
        #expect(events.named("step_retry").count == 2)
        let retry = try #require(events.named("step_retry").first)
        #expect(retry["attempt"] == 1)
        #expect(retry["error"]?["code"] == "CONNECTION")
        #expect(retry["error"]?["retryable"] == true)
        #expect(events.named("step_start", step: "read").compactMap { $0["attempt"]?.intValue } == [1, 2, 3])
        #expect(events.last?["rows_written"] == 1)
        #expect(outcome.failedSteps.isEmpty)
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
        let retries = events.named("step_retry").count
        #expect(retries == (code == .connection || code == .temporary ? 1 : 0))
        #expect(extractor.calls.withLock { $0 } == (code == .connection || code == .temporary ? 2 : 1))
        #expect(events.last?["exit_code"]?.intValue == Int(status.rawValue))
        #expect(events.named("step_skipped", step: "write").first?["reason"] == "upstream_failed")
        #expect(outcome.failedSteps == [FailedStep(stepID: "read", code: code.rawValue, message: "failed")])
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

    /// Found by bench/faults/kill-loop (pg append): osiris-exec killed after a writer's COMMIT but before
    /// the step's end left status.json without the commit, so --resume appended the rows a second time.
    /// The commit is now recorded as soon as the writer reports its rows; here the writer fails right
    /// after, as a killed run would stop, and status.json still says committed (what --resume skips).
    @Test func aCommitIsRecordedAsSoonAsTheWriterReportsIt() throws {
        struct CommitThenFail: Writer {
            func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
                while try input.next() != nil {}
                context.progress.wrote(rows: 3, bytes: 24)
                throw StepError(.run, "stopped after the commit")
            }
        }
        let (outcome, _) = try runSteps(
            [testStep("read", "test.numbers", .extract), testStep("write", "test.writer", .write, needs: ["read"])],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 1)), "test.writer": .writer(CommitThenFail())], folder: folder)
        #expect(outcome.status == "failed")
        let status = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: outcome.directory + "/status.json"))))
        #expect(status["steps"]?["write"]?["state"] == "failed")
        #expect(status["steps"]?["write"]?["committed"] == true)
        #expect(status["steps"]?["read"]?["committed"] == false)
    }

    /// A writer that keeps commit markers as a database append does: (run id, step id) per write.
    final class MarkingWriter: Writer, Sendable {
        let markers = Mutex<[String]>([])
        let writes = Mutex(0)
        let asked = Mutex<[String]>([])
        let askError: StepError?

        init(askError: StepError? = nil) { self.askError = askError }

        func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
            while try input.next() != nil {}
            writes.withLock { $0 += 1 }
            markers.withLock { $0.append("\(context.runID ?? "nil")/\(context.step.id)") }
            context.progress.wrote(rows: 1, bytes: 8)
        }

        func hasCommitted(_ context: StepContext) throws(StepError) -> Bool {
            asked.withLock { $0.append("\(context.runID ?? "nil")/\(context.step.id)") }
            if let askError { throw askError }
            return markers.withLock { $0.contains("\(context.runID ?? "nil")/\(context.step.id)") }
        }
    }

    /// Puts a run's status.json back to the state a kill right after the writer's COMMIT leaves.
    func forgetCommit(_ directory: String) throws {
        let url = URL(fileURLWithPath: directory + "/status.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let forgotten = text.replacingOccurrences(of: #""committed":true"#, with: #""committed":false"#)
        #expect(forgotten != text)
        try Data(forgotten.utf8).write(to: url)
    }

    /// The runner asks the writer on --resume, and only then: a marker found skips the step as
    /// resumed (the event a status.json skip gives) and records the commit; nothing is written again.
    @Test func resumeAsksTheWriterWhetherItCommitted() throws {
        let writer = MarkingWriter()
        let steps = [testStep("read", "test.numbers", .extract), testStep("write", "test.writer", .write, needs: ["read"])]
        let drivers: [String: Driver] = ["test.numbers": .extractor(NumberExtractor(batches: 1)), "test.writer": .writer(writer)]
        let (first, _) = try runSteps(steps, drivers: drivers, folder: folder)
        #expect(first.status == "success")
        #expect(writer.asked.withLock { $0 }.isEmpty)
        try forgetCommit(first.directory)

        let (resumed, events) = try runSteps(steps, drivers: drivers, folder: folder, resume: first.directory)
        #expect(resumed.status == "success")
        #expect(resumed.runID == first.runID)
        #expect(writer.asked.withLock { $0 } == ["\(first.runID)/write"])
        #expect(writer.writes.withLock { $0 } == 1)
        #expect(events.named("step_skipped", step: "write").map { $0["reason"] } == ["resumed"])
        #expect(events.named("step_start", step: "write").isEmpty)
        let status = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: resumed.directory + "/status.json"))))
        #expect(status["steps"]?["write"]?["committed"] == true)
        #expect(status["steps"]?["write"]?["state"] == "skipped")

        // No marker of that run: the step runs.
        writer.markers.withLock { $0.removeAll() }
        try forgetCommit(first.directory)
        let (again, againEvents) = try runSteps(steps, drivers: drivers, folder: folder, resume: first.directory)
        #expect(again.status == "success")
        #expect(writer.writes.withLock { $0 } == 2)
        #expect(againEvents.named("step_complete", step: "write").count == 1)
    }

    /// A writer that cannot say whether it committed (its server is down) fails the step with that
    /// error's class and writes nothing.
    @Test func aResumeThatCannotAskFailsTheStep() throws {
        let writer = MarkingWriter(askError: StepError(.connection, "connection refused"))
        let steps = [testStep("read", "test.numbers", .extract), testStep("write", "test.writer", .write, needs: ["read"])]
        let drivers: [String: Driver] = ["test.numbers": .extractor(NumberExtractor(batches: 1)), "test.writer": .writer(writer)]
        let (first, _) = try runSteps(steps, drivers: drivers, folder: folder)
        try forgetCommit(first.directory)
        let (resumed, events) = try runSteps(steps, drivers: drivers, folder: folder, resume: first.directory)
        #expect(resumed.exitStatus == .unavailable)
        #expect(writer.writes.withLock { $0 } == 1)
        let failed = try #require(events.named("step_failed", step: "write").first)
        #expect(failed["error"]?["code"] == "CONNECTION")
        #expect(failed["error"]?["message"] == "cannot tell whether the step committed in the run being resumed: connection refused")
    }

    /// A writer that took a batch cannot start over: its input is partly consumed.
    @Test func aWriterThatTookABatchIsNotRetried() throws {
        let writer = CountingWriter(error: StepError(.connection, "connection reset"), failAfter: 1)
        let (outcome, events) = try runSteps(
            [testStep("read", "test.numbers", .extract), testStep("write", "test.writer", .write, needs: ["read"], attempts: 3)],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 3)), "test.writer": .writer(writer)], folder: folder)
        #expect(writer.calls.withLock { $0 } == 1)
        #expect(events.named("step_retry").isEmpty)
        #expect(outcome.exitStatus == .unavailable)
        #expect(outcome.status == "failed")
        let failed = try #require(events.named("step_failed", step: "write").first)
        #expect(failed["error"]?["code"] == "CONNECTION")
        #expect(failed["error"]?["retryable"] == true)
        #expect(failed["error"]?["message"] == "connection reset (not retried: a batch of 'read' had been handed to it)")
        #expect(events.named("step_complete", step: "write").isEmpty)
        #expect(events.last?["rows_written"] == 0)
    }

    /// An extractor whose readers already have part of its output cannot start over.
    @Test func anExtractorThatSentABatchIsNotRetried() throws {
        let extractor = NumberExtractor(batches: 1, error: StepError(.temporary, "lock wait timeout"))
        let writer = CountingWriter()
        let (outcome, events) = try runSteps(
            [testStep("read", "test.numbers", .extract, attempts: 3), testStep("write", "test.writer", .write, needs: ["read"])],
            drivers: ["test.numbers": .extractor(extractor), "test.writer": .writer(writer)], folder: folder)
        #expect(extractor.calls.withLock { $0 } == 1)
        #expect(events.named("step_retry").isEmpty)
        #expect(outcome.exitStatus == .temporaryFailure)
        let failed = try #require(events.named("step_failed", step: "read").first)
        #expect(failed["error"]?["retryable"] == true)
        #expect(failed["error"]?["message"] == "lock wait timeout (not retried: it had sent a batch to its readers)")
        // The writer saw the input fail and wrote nothing.
        #expect(events.named("step_failed", step: "write").first?["error"]?["code"] == "UPSTREAM_FAILED")
        #expect(writer.rows.withLock { $0 } == 0)
    }

    /// Rows a driver says it read, but never sent, do not stop a retry.
    @Test func rowsReadButNotSentAreRetried() throws {
        let extractor = NumberExtractor(batches: 0, error: StepError(.connection, "reset"), readBeforeFailing: true)
        let (_, events) = try runSteps(
            [testStep("read", "test.numbers", .extract, attempts: 2)],
            drivers: ["test.numbers": .extractor(extractor)], folder: folder)
        #expect(extractor.calls.withLock { $0 } == 2)
        #expect(events.named("step_retry").count == 1)
    }

    @Test func aComponentWithoutADriverFailsTheRunBeforeAnyStepStarts() throws {
        let (outcome, events) = try runSteps(
            [testStep("read", "test.numbers", .extract), testStep("duck", "duckdb.processor", .transform, needs: ["read"]),
             testStep("write", "test.writer", .write, needs: ["duck"])],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 1)), "test.writer": .writer(CountingWriter()),
                      "duckdb.processor": .processor(ConcatenatingProcessor())], folder: folder)
        #expect(outcome.exitStatus == .failure)
        #expect(events.compactMap { $0["event"]?.stringValue } == ["run_start", "step_failed", "run_end"])
        let message = try #require(events.named("step_failed").first?["error"]?["message"]?.stringValue)
        #expect(message.hasPrefix("component 'duckdb.processor' cannot run in this build of osiris-exec: it needs an engine this build does not include; use 'component: sqlite.processor' instead; no step was run"))
        #expect(message.contains("'component: sqlite.processor'"))
        #expect(outcome.failedSteps.map(\.stepID) == ["duck"])
    }

    /// Steps that can never start are an internal error (70) naming them, not a wait for ever.
    @Test func aSchedulerWithNothingToStartEndsWith70() throws {
        let started = Date()
        let (outcome, events) = try runSteps(
            [testStep("a", "test.numbers", .extract, needs: ["b"]), testStep("b", "test.numbers", .extract, needs: ["a"])],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 1))], folder: folder, limit: 5)
        #expect(Date().timeIntervalSince(started) < 1)
        #expect(outcome.exitStatus == .software)
        #expect(outcome.status == "failed")
        #expect(events.named("step_failed").compactMap { $0["step_id"]?.stringValue } == ["a", "b"])
        #expect(events.named("step_failed").first?["error"]?["code"] == "INTERNAL")
        #expect(events.named("step_failed").first?["error"]?["message"]
            == "internal error: the scheduler is stuck: nothing runs and step 'a' cannot start (it needs 'b', which never started); please report this bug")
        #expect(events.last?["exit_code"] == 70)
    }

    /// DESIGN.md §7.4: steps of an interrupted run that never started get no event.
    @Test func stepsThatNeverStartedGetNoEventAfterAnInterruption() throws {
        let token = CancellationToken()
        cancel(token, after: 300_000)
        let (outcome, events) = try runSteps(
            [testStep("read", "test.blocking", .extract), testStep("write", "test.writer", .write, needs: ["read"])],
            drivers: ["test.blocking": .extractor(BlockingExtractor()), "test.writer": .writer(CountingWriter())],
            folder: folder, jobs: 1, cancellation: token)
        #expect(outcome.status == "aborted")
        #expect(outcome.exitStatus == .interrupted)
        #expect(events.names(of: "read") == ["step_start", "step_failed"])
        #expect(events.names(of: "write").isEmpty)
        #expect(events.last?["event"] == "run_end")
    }
}

/// Backpressure and spilling between steps (DESIGN.md §7.1).
@Suite struct FlowTests {
    let folder = TemporaryFolder()

    /// A tee whose readers run at different speeds feeds a join that reads one input to its end
    /// before the other: blocking on every full queue would deadlock, so one queue spills.
    @Test(arguments: [["read", "pass"], ["pass", "read"]])
    func aJoinBehindATeeOfUnequalReadersDoesNotDeadlock(joinOrder: [String]) throws {
        let writer = CountingWriter()
        let (outcome, events) = try runSteps(
            [testStep("read", "test.numbers", .extract), testStep("pass", "test.concat", .transform, needs: ["read"]),
             testStep("join", "test.concat", .transform, needs: joinOrder), testStep("write", "test.writer", .write, needs: ["join"])],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 40, rows: 100)), "test.concat": .processor(ConcatenatingProcessor()),
                      "test.writer": .writer(writer)],
            folder: folder, queueBudget: 1, limit: 20)
        #expect(outcome.status == "success", "\(events.named("step_failed"))")
        #expect(writer.rows.withLock { $0 } == 8000)
        let log = try String(contentsOfFile: outcome.directory + "/osiris.log", encoding: .utf8)
        #expect(log.contains("waiting for it would close a circle of waiting steps"))
    }

    /// A slow writer holds its extractor back however long it takes per batch: nothing spills,
    /// memory stays at the queue's budget.
    @Test func aSlowWriterGetsBackpressure() throws {
        let writer = CountingWriter(pause: 300_000)
        let (outcome, _) = try runSteps(
            [testStep("read", "test.numbers", .extract), testStep("write", "test.writer", .write, needs: ["read"])],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 5)), "test.writer": .writer(writer)],
            folder: folder, queueBudget: 1, limit: 20)
        #expect(outcome.status == "success")
        #expect(writer.rows.withLock { $0 } == 50)
        let log = try String(contentsOfFile: outcome.directory + "/osiris.log", encoding: .utf8)
        #expect(!log.contains("spills to disk"))
    }

    /// With one job the writer cannot run beside its extractor, which spills and says so.
    @Test func aReaderWaitingForAJobSlotMakesItsInputSpill() throws {
        let writer = CountingWriter()
        let (outcome, _) = try runSteps(
            [testStep("read", "test.numbers", .extract), testStep("write", "test.writer", .write, needs: ["read"])],
            drivers: ["test.numbers": .extractor(NumberExtractor(batches: 5)), "test.writer": .writer(writer)],
            folder: folder, jobs: 1, queueBudget: 1, limit: 20)
        #expect(outcome.status == "success")
        #expect(writer.rows.withLock { $0 } == 50)
        let log = try String(contentsOfFile: outcome.directory + "/osiris.log", encoding: .utf8)
        #expect(log.contains("output of step read spills to disk for step write: it is not running yet"))
    }
}
