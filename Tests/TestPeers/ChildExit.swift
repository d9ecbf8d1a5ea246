@_exported import Core
import Foundation

/// The tests wait for their children the way production code does (`Core.ProcessExit`): by
/// Foundation's account or by `/proc`, never with `waitUntilExit`.
public typealias ChildExit = ProcessExit

/// Runs a tool to its end and returns what it printed (stdout and stderr; stderr only with `discardOutput`);
/// throws when it exits non-zero. Never waitUntilExit: Foundation's reaping was seen to hang with both
/// cooperative threads in it.
public func runTool(_ executable: String, _ arguments: [String], timeout: Double = 120, discardOutput: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = discardOutput ? FileHandle.nullDevice : output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let status = ChildExit.waitBlocking(process, timeout: timeout)
    let text = String(decoding: data, as: UTF8.self)
    guard status == 0 else { throw EmulatorError.notReady("\(executable): \(text)") }
    return text
}
