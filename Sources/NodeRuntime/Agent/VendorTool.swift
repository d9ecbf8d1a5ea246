import Core
import Foundation

/// Runs a vendor tool (`nvidia-smi`, `rocm-smi`, `xpu-smi`) found on PATH. Blocking: call it on a worker thread.
enum VendorTool {
    /// The tool's standard output, or nil when it is not installed or fails.
    static func output(_ tool: String, _ arguments: [String]) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let found = paths.map({ "\($0)/\(tool)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: found)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return ProcessExit.waitBlocking(process, timeout: 60) == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
