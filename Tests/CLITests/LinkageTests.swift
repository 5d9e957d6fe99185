import Foundation
import Testing

/// The installed tools must run on a Debian machine without a Swift toolchain (and inside a sandbox that
/// has only the binary): the release build links the Swift runtime and Foundation statically, and `ldd`
/// shows only system libraries. `make test` builds the release tools and names their folder in
/// `OSIRIS_RELEASE_BIN`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["OSIRIS_RELEASE_BIN"] != nil,
                "OSIRIS_RELEASE_BIN is not set: run through make test"))
struct LinkageTests {
    static let tools = ["oml-lint", "oml-compile", "osiris-exec", "osiris-discover", "osiris-chat"]

    static var releaseBin: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["OSIRIS_RELEASE_BIN"] ?? "")
    }

    @Test(arguments: tools)
    func linksNoSwiftRuntime(_ tool: String) throws {
        let binary = Self.releaseBin.appendingPathComponent(tool).path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is not built")
        let ldd = try ToolHarness.run("ldd", [binary])
        #expect(ldd.status == 0, "\(ldd.stderr)")
        let libraries = ldd.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!libraries.isEmpty)
        for line in libraries {
            #expect(!line.contains("not found"), "\(tool): \(line)")
            #expect(!line.contains("libswift"), "\(tool) loads the Swift runtime dynamically: \(line)")
            #expect(!line.contains("libFoundation") && !line.contains("lib_FoundationICU") && !line.contains("libdispatch"),
                    "\(tool) loads Foundation or Dispatch dynamically: \(line)")
            #expect(!line.contains("/opt/swift") && !line.contains("/usr/lib/swift"), "\(tool) loads from the toolchain: \(line)")
        }
    }

    /// With no library path at all the tool still starts: nothing comes from the toolchain's folders.
    @Test(arguments: tools)
    func runsWithoutTheToolchain(_ tool: String) throws {
        let binary = Self.releaseBin.appendingPathComponent(tool).path
        let run = try ToolHarness.run(binary, ["--version"], environment: ["LD_LIBRARY_PATH": ""])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix(tool), "\(run.stdout)")
    }
}
