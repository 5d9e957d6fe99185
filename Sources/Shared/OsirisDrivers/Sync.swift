import Synchronization

/// A flag set once, from any thread.
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether the flag is set.
    var isSet: Bool { value.load(ordering: .acquiring) }

    /// Sets the flag; true when this call set it.
    func set() -> Bool {
        value.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }
}

/// Cancellation handlers keyed for removal.
final class HandlerList: Sendable {
    private let state = Mutex<(next: Int, handlers: [Int: @Sendable () -> Void])>((0, [:]))

    func add(_ handler: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            let key = state.next
            state.next += 1
            state.handlers[key] = handler
            return key
        }
    }

    func remove(_ key: Int) { state.withLock { _ = $0.handlers.removeValue(forKey: key) } }

    func runAll() {
        let handlers = state.withLock { Array($0.handlers.values) }
        for handler in handlers { handler() }
    }
}
