// osiris-fuzz: the seeded mutation harness of `make faults` (bench/faults/run), never installed.
//
//   osiris-fuzz TARGET [--inputs N] [--seed N] [--root DIR] [--timeout S] [--crash-dir DIR] [--exec PATH]
//   osiris-fuzz --replay TARGET FILE...
//
// TARGET is oml (parse, lint, compile), manifest, snapshot, connections or worker (lines sent to a
// real `osiris-exec --worker`, 2,000 per process, which --exec names). Seeds are the repository's
// files under --root (Tests/Conformance, Tests/GoldenManifests, Tests/OsirisDiscoveryTests/Goldens,
// examples); each input is a seed with one to four mutations drawn from --seed, so a run is
// reproducible. An input that crashes the process is written to --crash-dir before the process dies
// (a signal handler); one that runs longer than --timeout seconds is a hang: written out, exit 1.
// Inputs rejected otherwise than documented (no message, the wrong exit status) are failures too,
// each written to --crash-dir. --replay runs files (the regression inputs under Tests/Fuzz/) once each.
// Prints one summary line:
//   fuzz oml: 1000000 inputs, 123456 accepted, 0 failures, 52.1 s, 19193 inputs/s, seed 1
// Exit status: 0 no failure, 1 a failure or hang, 64 usage error; a crash ends it with the signal.
import OML
import OsirisCore
#if canImport(Glibc)
import Glibc
#endif

@main
enum OsirisFuzz {
    static func usage(_ message: String) -> Never {
        try? FileDescriptorOutput.standardError.write("osiris-fuzz: error: \(message)\n")
        exit(64)
    }

    struct Options {
        var replay = false
        var target = ""
        var inputs = 1_000_000
        var seed: UInt64 = 1
        var root = "."
        var timeout = 10
        var crashDirectory = "fuzz-crashes"
        var executable = ""
        var files: [String] = []
    }

    static func parse(_ commandLine: [String]) -> Options {
        var arguments = commandLine
        var options = Options()
        if arguments.first == "--replay" {
            options.replay = true
            arguments.removeFirst()
        }
        guard let target = arguments.first else { usage("name a target: oml, manifest, snapshot, connections or worker") }
        options.target = target
        arguments.removeFirst()
        while let argument = arguments.first {
            arguments.removeFirst()
            func value() -> String {
                guard let value = arguments.first else { usage("\(argument) needs a value") }
                arguments.removeFirst()
                return value
            }
            func number<T: FixedWidthInteger>(_ text: String) -> T {
                guard let value = T(text) else { usage("\(argument) takes a number, not '\(text)'") }
                return value
            }
            switch argument {
            case "--inputs": options.inputs = number(value())
            case "--seed": options.seed = number(value())
            case "--root": options.root = value()
            case "--timeout": options.timeout = number(value())
            case "--crash-dir": options.crashDirectory = value()
            case "--exec": options.executable = value()
            default:
                guard options.replay, !argument.hasPrefix("--") else { usage("unknown argument '\(argument)'") }
                options.files.append(argument)
            }
        }
        return options
    }

    static func seedFiles(root: String, _ include: (String) -> Bool) -> [[UInt8]] {
        var errors: [InputError] = []
        var result: [[UInt8]] = []
        for folder in ["Tests/Conformance", "Tests/GoldenManifests", "Tests/OsirisDiscoveryTests/Goldens", "examples"] {
            for path in DirectoryWalker.files(under: root + "/" + folder, errors: &errors, include: { _ in true }) where include(path) {
                if let bytes = try? InputFile.read(path), bytes.count <= 256 * 1024 { result.append(bytes) }
            }
        }
        return result
    }

    static func main() {
        let options = parse(Array(CommandLine.arguments.dropFirst()))
        let crashFolder = options.crashDirectory
        try? FileSystem.createDirectories(crashFolder)
        CrashGuard.install(path: "\(crashFolder)/\(options.target)-seed\(options.seed).input", limitSeconds: options.timeout)

        var failures = 0, accepted = 0, total = 0
        func report(_ failure: FuzzFailure, index: Int, bytes: [UInt8]) {
            failures += 1
            let path = "\(crashFolder)/\(options.target)-seed\(options.seed)-\(index).input"
            _ = try? AtomicFile.write(bytes, to: path)
            try? FileDescriptorOutput.standardError.write("osiris-fuzz: \(options.target) input #\(index) (\(path)): \(failure.description)\n")
        }
        let clock = MonotonicClock.milliseconds()

        if options.target == "worker" {
            guard !options.executable.isEmpty else { usage("the worker target needs --exec PATH_TO_OSIRIS_EXEC") }
            let scratch: String
            do {
                scratch = try FileSystem.temporaryDirectory(in: "/tmp", prefix: "osiris-fuzz-")
            } catch {
                usage("cannot create a scratch folder: \(error)")
            }
            defer { FileSystem.remove(scratch) }
            let manifest = seedFiles(root: options.root) { $0.hasSuffix("valid-minimal.oml.manifest.json") }.first
            let target = WorkerTarget(executable: options.executable, scratch: scratch, timeout: options.timeout)
            let mutator = Mutator(seeds: WorkerTarget.seeds(manifest: manifest), language: .json)
            var random = SplitMix64(seed: options.seed)
            let batches: [[[UInt8]]] = options.files.map { file in
                ((try? InputFile.read(file)) ?? []).split(separator: 0x0A).map(Array.init)
            }
            var batchIndex = 0
            while options.replay ? batchIndex < batches.count : total < options.inputs {
                let batch = options.replay
                    ? batches[batchIndex] : (0..<min(2000, options.inputs - total)).map { _ in mutator.mutant(&random) }
                let lines = WorkerTarget.lines(batch)
                CrashGuard.remember(lines)
                do {
                    let outcome = try target.run(batch)
                    accepted += outcome.answered - outcome.rejected
                } catch {
                    report(error, index: batchIndex, bytes: lines)
                }
                total += batch.count
                batchIndex += 1
            }
        } else {
            let targets: [String: any FuzzTarget] = [
                "oml": OMLTarget(
                    connections: try? ConnectionsFile.load(path: options.root + "/Tests/Conformance/osiris_connections.yaml"),
                    snapshot: try? Snapshot.load(path: options.root + "/Tests/Conformance/snapshot.json")),
                "manifest": ManifestTarget(), "snapshot": SnapshotTarget(), "connections": ConnectionsTarget(),
            ]
            guard let target = targets[options.target] else { usage("unknown target '\(options.target)'") }
            func run(_ mutant: [UInt8], _ index: Int) {
                // The crash file and --replay hold the mutant; `prepare` is deterministic.
                let bytes = target.prepare(mutant)
                CrashGuard.remember(mutant)
                do {
                    if try target.run(bytes) { accepted += 1 }
                } catch {
                    report(error, index: index, bytes: mutant)
                }
                total += 1
            }
            if options.replay {
                for (index, file) in options.files.enumerated() {
                    guard let bytes = try? InputFile.read(file) else { usage("cannot read '\(file)'") }
                    run(bytes, index)
                }
            } else {
                let seeds = seedFiles(root: options.root, target.isSeed)
                guard !seeds.isEmpty else { usage("no seed files for '\(options.target)' under '\(options.root)'") }
                let mutator = Mutator(seeds: seeds, language: target.language)
                var random = SplitMix64(seed: options.seed)
                for index in 0..<options.inputs { run(mutator.mutant(&random), index) }
            }
        }

        let milliseconds = MonotonicClock.milliseconds() - clock
        let rate = milliseconds > 0 ? total * 1000 / milliseconds : total
        let summary = options.replay
            ? "fuzz \(options.target) replay: \(total) inputs, \(failures) failures\n"
            : "fuzz \(options.target): \(total) inputs, \(accepted) accepted, \(failures) failures, "
                + "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s, \(rate) inputs/s, seed \(options.seed)\n"
        try? FileDescriptorOutput.standardOutput.write(summary)
        exit(failures == 0 ? 0 : 1)
    }
}
