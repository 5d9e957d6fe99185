import OsirisCore
#if canImport(Glibc)
import Glibc
#endif

/// Worker protocol messages sent to a real `osiris-exec --worker`, a batch of lines per process: the
/// worker must answer every line that is not a notification with a JSON-RPC response (an error for
/// what it rejects), never die of a signal, and end by itself when its input closes.
struct WorkerTarget {
    /// The osiris-exec to start.
    let executable: String
    /// A scratch folder for the batches (the worker's own folder is its TMPDIR's).
    let scratch: String
    /// Seconds one batch may take before it counts as a hang.
    let timeout: Int

    /// The seeds: one message of each method, with a real manifest in `prepare` when one is given.
    static func seeds(manifest: [UInt8]?) -> [[UInt8]] {
        let manifestText = manifest.map { String(decoding: $0, as: UTF8.self).trimmingNewline } ?? "{}"
        let lines = [
            #"{"id":1,"jsonrpc":"2.0","method":"hello","params":{"protocol":1}}"#,
            #"{"id":2,"jsonrpc":"2.0","method":"prepare","params":{"connections":{"extract":{"error":{"code":"CONFIG","message":"unset variable 'PW'","retryable":false}}},"manifest":\#(manifestText)}}"#,
            #"{"id":3,"jsonrpc":"2.0","method":"run","params":{"adapter":"sandbox","isolation":"none","jobs":2,"run_id":"20261127T021500Z-k3f9q2"}}"#,
            #"{"id":4,"jsonrpc":"2.0","method":"list_artifacts","params":{}}"#,
            #"{"id":5,"jsonrpc":"2.0","method":"read_artifact","params":{"kind":"run","length":1048576,"offset":0,"path":"status.json"}}"#,
            #"{"id":6,"jsonrpc":"2.0","method":"put_file","params":{"data":"aWQsdgoxLGEK","offset":0,"path":"data/in.csv","sha256":"sha256:0"}}"#,
            #"{"id":7,"jsonrpc":"2.0","method":"cancel","params":{"exit_code":130}}"#,
            #"{"jsonrpc":"2.0","method":"event","params":{"event":"step_start","seq":2}}"#,
            #"{"id":9,"jsonrpc":"2.0","result":{"protocol":1}}"#,
        ]
        return lines.map { Array($0.utf8) }
    }

    /// The batch as the worker reads it, one message a line: a newline inside a mutant would split it
    /// into two messages, so it becomes a space. Also what a failing batch is saved as, for --replay.
    static func lines(_ batch: [[UInt8]]) -> [UInt8] {
        var input: [UInt8] = []
        input.reserveCapacity(batch.reduce(0) { $0 + $1.count + 1 })
        for line in batch {
            for byte in line { input.append(byte == 0x0A ? 0x20 : byte) }
            input.append(0x0A)
        }
        return input
    }

    /// Runs `batch` (lines without their newline) through one worker; throws a failure naming what broke.
    func run(_ batch: [[UInt8]]) throws(FuzzFailure) -> (answered: Int, rejected: Int) {
        let inputPath = scratch + "/batch.in", outputPath = scratch + "/batch.out"
        var input = Self.lines(batch)
        // The last line ends the worker in order; a mutant that ends it earlier is fine too.
        input += Array(#"{"id":999999,"jsonrpc":"2.0","method":"shutdown","params":{}}"#.utf8) + [0x0A]
        do {
            try AtomicFile.write(input, to: inputPath)
        } catch {
            throw FuzzFailure("cannot write the batch: \(error)")
        }
        let pid = try spawn(input: inputPath, output: outputPath)
        let deadline = MonotonicClock.milliseconds() + timeout * 1000
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0, errno != EINTR { throw FuzzFailure("waitpid: \(systemMessage(errno))") }
            if MonotonicClock.milliseconds() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw FuzzFailure("the worker did not end within \(timeout) s of its input closing (a hang)")
            }
            usleep(2000)
        }
        let signalled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
        if signalled { throw FuzzFailure("the worker died of signal \(status & 0x7F)") }
        let code = (status >> 8) & 0xFF
        guard code == 0 || code == 143 else { throw FuzzFailure("the worker exited \(code)") }
        let output = (try? InputFile.read(outputPath)) ?? []
        var answered = 0, rejected = 0
        for line in output.split(separator: 0x0A) {
            guard let json = try? JSONParser.parse(Array(line)), json["jsonrpc"]?.stringValue == "2.0" else {
                throw FuzzFailure("the worker wrote a line that is not JSON-RPC: \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
            if let error = json["error"] {
                guard error["code"]?.intValue != nil, !(error["message"]?.stringValue ?? "").isEmpty else {
                    throw FuzzFailure("an error response without a code or message: \(String(decoding: line.prefix(200), as: UTF8.self))")
                }
                rejected += 1
            }
            if json["id"] != nil { answered += 1 }
        }
        return (answered, rejected)
    }

    private func spawn(input: String, output: String) throws(FuzzFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = [strdup(executable), strdup("--worker"), nil]
        let envp = [strdup("TMPDIR=\(scratch)"), strdup("PATH=/usr/bin:/bin"), nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw FuzzFailure("cannot start '\(executable)': \(systemMessage(result))") }
        return pid
    }
}

extension String {
    fileprivate var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
