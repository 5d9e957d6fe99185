import OsirisCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The input being run, copied before each run so that a signal handler can write it out: a crash
/// (a trap, a stack overflow) saves the input that caused it before the process dies of the signal.
enum CrashGuard {
    static let capacity = 1 << 20
    // unchecked: written only by the fuzzing thread; read by the crash handler on that same thread,
    // and by the watchdog only once the fuzzing thread stopped making progress.
    nonisolated(unsafe) static let input = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    // unchecked: as above.
    nonisolated(unsafe) static var length = 0
    // unchecked: set once before the handlers are installed, then only read.
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>? = nil
    // unchecked: set once before the watchdog starts, then only read.
    nonisolated(unsafe) static var limitSeconds = 10
    /// How many inputs have started, for the watchdog.
    static let started = Atomic<Int>(0)

    /// Records `bytes` as the input under way.
    static func remember(_ bytes: [UInt8]) {
        length = min(bytes.count, capacity)
        if length > 0 { bytes.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: length) } }
        started.add(1, ordering: .relaxed)
    }

    /// Writes the input under way to `path` with async-signal-safe calls only.
    static func save() {
        guard let path else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if descriptor >= 0 {
            _ = write(descriptor, input, length)
            close(descriptor)
        }
    }

    /// Installs the crash handlers (on a stack of their own, for stack overflows) and the watchdog.
    static func install(path: String, limitSeconds: Int) {
        self.path = strdup(path)
        self.limitSeconds = limitSeconds
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
        stack.ss_size = 1 << 16
        sigaltstack(&stack, nil)
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                CrashGuard.save()
                let message = "osiris-fuzz: crash (a fatal signal); the input is in the crash folder\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            action.sa_flags = SA_ONSTACK
            sigaction(signal, &action, nil)
        }
        var thread = pthread_t()
        pthread_create(&thread, nil, { _ in
            var last = -1, since = MonotonicClock.milliseconds()
            while true {
                sleep(1)
                let now = CrashGuard.started.load(ordering: .relaxed)
                if now != last {
                    last = now
                    since = MonotonicClock.milliseconds()
                } else if MonotonicClock.milliseconds() - since > CrashGuard.limitSeconds * 1000 {
                    CrashGuard.save()
                    let message = "osiris-fuzz: hang: input #\(now) ran for more than \(CrashGuard.limitSeconds) s; it is in the crash folder\n"
                    try? FileDescriptorOutput.standardError.write(message)
                    exit(1)
                }
            }
        }, nil)
    }
}
