import Foundation
import OML
import OsirisCore
import OsirisData
import OsirisDrivers
@testable import OsirisRunner
import Testing

@Suite struct SubscriptionTests {
    let folder = TemporaryFolder()

    func numbers(_ range: Range<Int>) -> RecordBatch {
        var builder = BatchBuilder(schema: Schema([Field(name: "n", type: .int64)]), capacity: range.count)
        for value in range { builder.columns[0].append(Int64(value)) }
        return builder.finish()
    }

    func drain(_ subscription: Subscription, pause: UInt32 = 0) throws -> [Int64] {
        var seen: [Int64] = []
        while let batch = try subscription.next() {
            for row in 0..<batch.count { seen.append(batch.columns[0].int64(row)) }
            if pause > 0 { usleep(pause) }
        }
        return seen
    }

    @Test func aConsumerThatIsNotRunningMakesTheProducerSpillInOrder() throws {
        let exchange = Exchange(memoryBudget: 1, cancellation: CancellationToken())
        let subscription = Subscription(producer: "producer", consumer: "consumer", exchange: exchange, spillPath: folder.path("s.batches"))
        subscription.declare(Schema([Field(name: "n", type: .int64)]))
        for start in stride(from: 0, to: 50, by: 10) { try subscription.push(numbers(start..<(start + 10))) }
        subscription.finish(nil)
        #expect(subscription.spilledBatches == 4)
        #expect(try drain(subscription) == (0..<50).map(Int64.init))
    }

    /// A running reader slower than its producer holds the producer back instead of making it spill.
    @Test func aSlowRunningConsumerGetsBackpressureNotSpills() throws {
        let exchange = Exchange(memoryBudget: 1, cancellation: CancellationToken())
        let subscription = Subscription(producer: "producer", consumer: "consumer", exchange: exchange, spillPath: folder.path("b.batches"))
        exchange.started("consumer")
        subscription.declare(Schema([Field(name: "n", type: .int64)]))
        let producer = Thread {
            for start in stride(from: 0, to: 200, by: 10) { try? subscription.push(numbers(start..<(start + 10))) }
            subscription.finish(nil)
        }
        producer.start()
        #expect(try drain(subscription, pause: 5_000) == (0..<200).map(Int64.init))
        #expect(subscription.spilledBatches == 0)
        #expect(!FileManager.default.fileExists(atPath: folder.path("b.batches")))
    }

    /// Batches spilled before the reader started are read first; after that the producer waits for
    /// the reader instead of sending the rest of the stream to disk.
    @Test func aReaderThatStartsLateCatchesUpWithoutTheRestSpilling() throws {
        let exchange = Exchange(memoryBudget: 1, cancellation: CancellationToken())
        let subscription = Subscription(producer: "producer", consumer: "consumer", exchange: exchange, spillPath: folder.path("l.batches"))
        subscription.declare(Schema([Field(name: "n", type: .int64)]))
        for start in stride(from: 0, to: 30, by: 10) { try subscription.push(numbers(start..<(start + 10))) }
        #expect(subscription.spilledBatches == 2)
        exchange.started("consumer")
        let producer = Thread {
            for start in stride(from: 30, to: 200, by: 10) { try? subscription.push(numbers(start..<(start + 10))) }
            subscription.finish(nil)
        }
        producer.start()
        #expect(try drain(subscription, pause: 2_000) == (0..<200).map(Int64.init))
        #expect(subscription.spilledBatches == 2)
    }

    @Test func upstreamFailureReachesTheConsumer() throws {
        let exchange = Exchange(memoryBudget: 1 << 20, cancellation: CancellationToken())
        let subscription = Subscription(producer: "extract", consumer: "c", exchange: exchange, spillPath: folder.path("f.batches"))
        subscription.finish(StepError(.run, "disk on fire"))
        do {
            _ = try subscription.schema()
            Issue.record("no error")
        } catch {
            #expect(error.code == .upstreamFailed)
            #expect(error.message == "input 'extract' failed: disk on fire")
        }
    }

    @Test func cancellationWakesAWaitingConsumerAtOnce() {
        let token = CancellationToken()
        let exchange = Exchange(memoryBudget: 1 << 20, cancellation: token)
        let subscription = Subscription(producer: "p", consumer: "c", exchange: exchange, spillPath: folder.path("c.batches"))
        subscription.declare(Schema([]))
        cancel(token, after: 100_000, status: .terminated)
        let started = Date()
        do {
            _ = try subscription.next()
            Issue.record("returned without data")
        } catch {
            #expect(error.code == .cancelled)
        }
        #expect(Date().timeIntervalSince(started) < 0.4)
        #expect(token.exitStatus == .terminated)
    }

    @Test func cancellationWakesAWaitingProducer() {
        let token = CancellationToken()
        let exchange = Exchange(memoryBudget: 1, cancellation: token)
        let subscription = Subscription(producer: "p", consumer: "c", exchange: exchange, spillPath: folder.path("p.batches"))
        exchange.started("c")
        subscription.declare(Schema([Field(name: "n", type: .int64)]))
        cancel(token, after: 100_000)
        let started = Date()
        do {
            try subscription.push(numbers(0..<10))
            try subscription.push(numbers(10..<20))
            Issue.record("a full queue took a second batch")
        } catch {
            #expect(error.code == .cancelled)
        }
        #expect(Date().timeIntervalSince(started) < 0.4)
        #expect(subscription.spilledBatches == 0)
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
        let step = ManifestStep(id: "e", component: "postgres.extractor", mode: .extract, needs: [], connection: nil,
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
