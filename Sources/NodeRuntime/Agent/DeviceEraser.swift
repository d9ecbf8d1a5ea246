import Core
import Foundation
import Logging

/// Erases a data device for a release: a block device is discarded with `blkdiscard` (the drive
/// forgets every block); a regular file (or a device blkdiscard refuses) is overwritten with zeros
/// and synced. Blocking: call on a worker thread.
enum DeviceEraser {
    static func erase(_ path: String, logger: Logger) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let isBlock = attributes[.type] as? FileAttributeType == .typeBlockSpecial
        if isBlock, let size = blockDeviceSize(path), runBlkdiscard(path) {
            logger.info("device discarded", metadata: ["device": .string(path), "bytes": .stringConvertible(size)])
            return size
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw AgentError.io("cannot open \(path) to erase it") }
        defer { try? handle.close() }
        let size = isBlock ? (blockDeviceSize(path) ?? 0) : ((attributes[.size] as? NSNumber)?.int64Value ?? 0)
        let zeros = Data(count: 1 << 20)
        var written: Int64 = 0
        var lastLog = Date()
        while written < size {
            let chunk = Int(min(Int64(zeros.count), size - written))
            try handle.write(contentsOf: chunk == zeros.count ? zeros : zeros.prefix(chunk))
            written += Int64(chunk)
            if Date().timeIntervalSince(lastLog) > 2 {
                lastLog = Date()
                logger.info("erasing", metadata: ["device": .string(path), "bytes": .stringConvertible(written), "of": .stringConvertible(size)])
            }
        }
        try handle.synchronize()
        logger.info("device overwritten with zeros", metadata: ["device": .string(path), "bytes": .stringConvertible(written)])
        return written
    }

    private static func blockDeviceSize(_ path: String) -> Int64? {
        let name = (path as NSString).lastPathComponent
        return (try? String(contentsOfFile: "/sys/class/block/\(name)/size", encoding: .utf8))
            .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.map { $0 * 512 }
    }

    private static func runBlkdiscard(_ path: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["blkdiscard", "-f", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        // Discarding a large device takes a while; a blocking wait, on the worker thread this runs on.
        return ProcessExit.waitBlocking(process, timeout: 3600) == 0
    }
}
