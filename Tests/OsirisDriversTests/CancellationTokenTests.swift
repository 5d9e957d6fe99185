import Foundation
import OsirisCore
import OsirisDrivers
import Synchronization
import Testing

@Suite struct CancellationTokenTests {
    /// Handlers registered from several threads while another thread cancels: each one runs exactly
    /// once, whether it was registered before the cancellation or after it.
    @Test func everyHandlerRunsExactlyOnceUnderConcurrentCancel() {
        for _ in 0..<50 {
            let token = CancellationToken()
            let handlerCount = 64
            let calls = Mutex([Int](repeating: 0, count: handlerCount))
            DispatchQueue.concurrentPerform(iterations: handlerCount + 1) { index in
                if index == handlerCount / 2 {
                    token.cancel(status: .terminated)
                }
                if index < handlerCount {
                    token.onCancel { calls.withLock { $0[index] += 1 } }
                }
            }
            token.cancel()
            #expect(calls.withLock { $0 } == Array(repeating: 1, count: handlerCount))
        }
    }

    /// Whoever sees the flag also sees the status the first cancel asked for; a second cancel changes nothing.
    @Test func statusIsVisibleWithTheFlag() {
        let token = CancellationToken()
        let seen = Mutex<[Int32]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            if index == 0 {
                token.cancel(status: .terminated)
            } else {
                while !token.isCancelled {}
                let status = token.exitStatus.rawValue
                seen.withLock { $0.append(status) }
            }
        }
        token.cancel(status: .interrupted)
        #expect(seen.withLock { $0 } == [143, 143, 143])
        #expect(token.exitStatus == .terminated)
    }

    /// A removed handler does not run; one registered after the cancellation runs at once.
    @Test func removedHandlersDoNotRunAndLateOnesRunAtOnce() {
        let token = CancellationToken()
        let calls = Atomic<Int>(0)
        let key = token.onCancel { calls.add(100, ordering: .relaxed) }
        token.remove(key)
        token.cancel()
        #expect(calls.load(ordering: .relaxed) == 0)
        token.onCancel { calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == 1)
        #expect(throws: StepError.self) { try token.check() }
    }
}
