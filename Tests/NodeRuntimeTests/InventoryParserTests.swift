import Foundation
import NodeContract
@testable import NodeRuntime
import Testing

@Suite struct InventoryParserTests {
    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"), encoding: .utf8)
    }

    @Test func nvidiaSMIGroupsIdenticalGPUs() throws {
        let groups = try VendorToolParsers.nvidiaSMI(try Self.fixture("nvidia-smi.csv"), nvlinkActive: true)
        #expect(groups == [InventoryReport.Accelerator(vendor: "nvidia", model: "NVIDIA H100 80GB HBM3", memoryMiB: 81559, count: 8, interconnect: "NVLink")])
        let bare = try VendorToolParsers.nvidiaSMI("0, NVIDIA L40S, 46068\n1, NVIDIA L40S, 46068\n")
        #expect(bare.first?.count == 2 && bare.first?.interconnect == "PCIe")
        #expect(throws: InventoryParseError.self) { try VendorToolParsers.nvidiaSMI("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.") }
        #expect(throws: InventoryParseError(source: "nvidia-smi", reason: "line 1: memory.total lots is not a number of MiB")) {
            try VendorToolParsers.nvidiaSMI("0, NVIDIA H100, lots")
        }
    }

    @Test func rocmSMIAndXPUSMIReadTheirJSON() throws {
        let amd = try VendorToolParsers.rocmSMI(try Self.fixture("rocm-smi.json"), xgmi: true)
        #expect(amd == [InventoryReport.Accelerator(vendor: "amd", model: "AMD Instinct MI300X", memoryMiB: 196592, count: 2, interconnect: "xGMI")])
        let intel = try VendorToolParsers.xpuSMI(try Self.fixture("xpu-smi.json"))
        #expect(intel == [InventoryReport.Accelerator(vendor: "intel", model: "Intel(R) Data Center GPU Max 1550", memoryMiB: 131072, count: 2)])
        #expect(throws: InventoryParseError.self) { try VendorToolParsers.rocmSMI("WARNING: No AMD GPUs specified") }
        #expect(throws: InventoryParseError.self) { try VendorToolParsers.rocmSMI(#"{"card0": {"Card Series": "X"}}"#) }
        #expect(throws: InventoryParseError.self) { try VendorToolParsers.xpuSMI(#"{"devices": []}"#) }
    }

    @Test func linuxSourcesParseFixturesAndThisMachine() throws {
        let cpu = try LinuxInventoryParsers.cpuInfo("processor\t: 0\nmodel name\t: AMD EPYC 9654\nphysical id\t: 0\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 9654\nphysical id\t: 1\n")
        #expect(cpu.model == "AMD EPYC 9654" && cpu.threads == 2 && cpu.sockets == 2)
        #expect(try LinuxInventoryParsers.memTotalKiB("MemTotal:       1056587732 kB\nMemFree: 1 kB\n") == 1_056_587_732)
        #expect(throws: InventoryParseError.self) { try LinuxInventoryParsers.memTotalKiB("MemFree: 1 kB") }
        #expect(throws: InventoryParseError.self) { try LinuxInventoryParsers.cpuInfo("garbage") }
        // This machine's real /proc and /sys.
        let real = try LinuxInventoryParsers.read()
        #expect(real.cpuThreads == ProcessInfo.processInfo.processorCount)
        #expect(abs(Double(real.memoryKiB * 1024) - Double(ProcessInfo.processInfo.physicalMemory)) < Double(ProcessInfo.processInfo.physicalMemory) * 0.05)
        #expect(!real.nics.contains { $0.name == "lo" })
    }
}
