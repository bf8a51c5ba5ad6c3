// libFuzzer's entry point over ServerInputHarness; built and run only by Scripts/fuzz.sh (swiftc
// -sanitize=fuzzer brings libFuzzer's main()).

import WireFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    ServerInputHarness.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
