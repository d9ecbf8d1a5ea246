import Dispatch
import Foundation

/// A benchmark's helper process (the harness, wrk) run to its end for its standard output.
enum ChildOutput {
    /// Starts `process`, reads its standard output to the end on a dispatch thread (the read blocks,
    /// and the cooperative pool has only as many threads as cores), then polls for its exit:
    /// Foundation's `waitUntilExit` was seen never to return after the harness had ended.
    /// Returns the output and the exit status.
    static func run(_ process: Process, mergingStandardError: Bool = false) async throws -> (output: String, status: Int32) {
        let pipe = Pipe()
        process.standardOutput = pipe
        if mergingStandardError { process.standardError = pipe }
        try process.run()
        let data: Data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
        }
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }
}
