import Foundation

/// Runs a system tool (`ip`, `nft`) to its end and collects what it printed. Blocking: call it on
/// a worker thread (`BlockingWorkPool`), never on Swift's cooperative pool.
public enum SystemCommand {
    public struct Result: Sendable {
        public var status: Int32
        public var output: Data
        public var errors: String
        public var succeeded: Bool { status == 0 }
    }

    public enum Failure: Error, CustomStringConvertible {
        case notStarted(String, String)
        case failed(String, status: Int32, errors: String)

        public var description: String {
            switch self {
            case .notStarted(let command, let reason): "\(command) did not start: \(reason)"
            case .failed(let command, let status, let errors): "\(command) exited \(status): \(errors.trimmingCharacters(in: .whitespacesAndNewlines))"
            }
        }
    }

    /// Runs `arguments` (the first found on PATH unless absolute), feeding `input` on standard input.
    public static func run(_ arguments: [String], input: String? = nil, timeout: Double = 30) throws -> Result {
        let process = Process()
        let tool = arguments[0]
        if tool.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
        }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let feed = input.map { _ in Pipe() }
        process.standardInput = feed ?? FileHandle.nullDevice
        do { try process.run() } catch { throw Failure.notStarted(tool, "\(error)") }
        if let feed, let input {
            feed.fileHandleForWriting.write(Data(input.utf8))
            try? feed.fileHandleForWriting.close()
        }
        // Both pipes are drained before the wait so a talkative tool never blocks on a full pipe.
        let errorData = NSLockedData()
        let drain = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        drain.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let status = ProcessExit.waitBlocking(process, timeout: timeout) ?? {
            process.terminate()
            return 124
        }()
        while !errorData.done { usleep(1000) }
        return Result(status: status, output: data, errors: String(decoding: errorData.value, as: UTF8.self))
    }

    /// Runs and throws unless the tool succeeded; returns its standard output.
    @discardableResult
    public static func check(_ arguments: [String], input: String? = nil, timeout: Double = 30) throws -> Data {
        let result = try run(arguments, input: input, timeout: timeout)
        guard result.succeeded else { throw Failure.failed(arguments.prefix(3).joined(separator: " "), status: result.status, errors: result.errors) }
        return result.output
    }
}

/// A byte buffer one thread fills and another waits for.
private final class NSLockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ value: Data) { lock.lock(); data = value; finished = true; lock.unlock() }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data }
}
