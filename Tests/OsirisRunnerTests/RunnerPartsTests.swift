import Foundation
import OML
import OsirisCore
import OsirisData
import OsirisDrivers
@testable import OsirisRunner
import Testing

@Suite struct SubscriptionTests {
    let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-runner-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func numbers(_ range: Range<Int>) -> RecordBatch {
        var builder = BatchBuilder(schema: Schema([Field(name: "n", type: .int64)]), capacity: range.count)
        for value in range { builder.columns[0].append(Int64(value)) }
        return builder.finish()
    }

    @Test func aConsumerThatIsNotReadingMakesTheProducerSpillInOrder() throws {
        let subscription = Subscription(
            stepID: "producer", memoryBudget: 1, spillPath: folder.appendingPathComponent("s.batches").path,
            cancellation: CancellationToken())
        subscription.declare(Schema([Field(name: "n", type: .int64)]))
        for start in stride(from: 0, to: 50, by: 10) { try subscription.push(numbers(start..<(start + 10))) }
        subscription.finish(nil)
        #expect(subscription.spilledBatches == 4)
        var seen: [Int64] = []
        while let batch = try subscription.next() {
            for row in 0..<batch.count { seen.append(batch.columns[0].int64(row)) }
        }
        #expect(seen == (0..<50).map(Int64.init))
    }

    @Test func upstreamFailureReachesTheConsumer() throws {
        let subscription = Subscription(
            stepID: "extract", memoryBudget: 1 << 20, spillPath: folder.appendingPathComponent("f.batches").path,
            cancellation: CancellationToken())
        subscription.finish(StepError(.run, "disk on fire"))
        do {
            _ = try subscription.schema()
            Issue.record("no error")
        } catch {
            #expect(error.code == .upstreamFailed)
            #expect(error.message == "input 'extract' failed: disk on fire")
        }
    }

    @Test func cancellationWakesAWaitingConsumer() {
        let token = CancellationToken()
        let subscription = Subscription(stepID: "p", memoryBudget: 1 << 20, spillPath: folder.appendingPathComponent("c.batches").path, cancellation: token)
        subscription.declare(Schema([]))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { token.cancel(status: .terminated) }
        do {
            _ = try subscription.next()
            Issue.record("returned without data")
        } catch {
            #expect(error.code == .cancelled)
        }
        #expect(token.exitStatus == .terminated)
    }
}

@Suite struct MaskingAndConnectionTests {
    @Test func maskerHidesSecretsEverywhereLongestFirst() {
        let masker = SecretMasker()
        masker.register("hunter2")
        masker.register("hunter2hunter2")
        masker.register("x")
        #expect(masker.mask("pw=hunter2hunter2 and hunter2 but x stays") == "pw=*** and *** but x stays")
        #expect(masker.mask(JSONValue.object(["hunter2": ["a hunter2 b"]])) == .object(["***": ["a *** b"]]))
    }

    @Test func eventStreamMasksAndNumbers() throws {
        let masker = SecretMasker()
        masker.register("s3cret")
        let sink = MemoryEventSink()
        let stream = EventStream(runID: "r", sinks: [sink], masker: masker, firstSeq: 7, clock: { "2026-01-01T00:00:00.000Z" })
        stream.emit("step_failed", ["step_id": "a", "error": ["message": "password s3cret rejected"]])
        stream.emit("run_end", ["status": "failed"])
        let lines = String(decoding: sink.bytes, as: UTF8.self)
        #expect(lines == """
            {"error":{"message":"password *** rejected"},"event":"step_failed","run_id":"r","seq":7,"step_id":"a","ts":"2026-01-01T00:00:00.000Z","v":1}
            {"event":"run_end","run_id":"r","seq":8,"status":"failed","ts":"2026-01-01T00:00:00.000Z","v":1}

            """)
    }

    @Test func resolverSubstitutesRegistersAndNamesUnsetVariables() throws {
        let connections = try ConnectionsFile.parse(Array("""
            version: 1
            connections:
              pg:
                shop: {default: true, host: db, password: "${PW}", dsn: "postgres://etl:p%40ss@db/shop"}
              sqlite:
                local: {default: true, path: data/shop.db}
                broken: {path: "${MISSING_PATH}"}
            """.utf8), path: "conf/osiris_connections.yaml")
        let masker = SecretMasker()
        let resolver = ConnectionResolver(connections: connections, searched: "test", environment: ["PW": "pw-value"], masker: masker)
        let step = ManifestStep(id: "e", component: "postgres.extractor", mode: "extract", needs: [], connection: nil,
                                config: [:], retry: RetryPolicy(attempts: 1, backoffMilliseconds: 0))
        let resolved = try #require(try resolver.resolve(step, family: "postgres"))
        #expect(resolved.reference == "@pg.shop")
        #expect(resolved.fields["password"] == "pw-value")
        #expect(masker.mask("pw-value p%40ss p@ss") == "*** *** ***")
        var sqlite = step
        sqlite.component = "sqlite.extractor"
        #expect(try resolver.resolve(sqlite, family: "sqlite")?.fields["path"] == "conf/data/shop.db")
        sqlite.connection = "@sqlite.broken"
        do {
            _ = try resolver.resolve(sqlite, family: "sqlite")
            Issue.record("unset variable accepted")
        } catch {
            #expect(error.code == .configuration)
            #expect(error.message == "environment variable MISSING_PATH is not set (field 'path' of connection '@sqlite.broken')")
            #expect(error.exitStatus == .configuration)
        }
    }
}
