// Writes the PDF seed of fuzz_pdf_text: the server's unit-test call sheet as a
// PDF made by test/app/pdf_fixture.h (the same generator the unit tests use).
// Usage: fuzz_seed_pdf OUT.pdf
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "app/pdf_fixture.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_pdf OUT.pdf\n";
    return 2;
  }
  const std::vector<std::string> lines = {"PRODUCTION: The Long Night",
                                          "Shooting Date: 15.03.2024",
                                          "Crew Call: 06:30",
                                          "Location: Old Brewery, ul. Browarna 5, Warsaw",
                                          "Base Location: Parking lot B, ul. Browarna 7",
                                          "Scene Type: EXT/NIGHT",
                                          "Scenes: 12, 14A, 15",
                                          "",
                                          "Contacts:",
                                          "Anna Nowak - 1st AD - +48 600 100 200",
                                          "Notes: Bring warm clothes (and boots)"};
  std::ofstream(argv[1], std::ios::binary) << sot::test::make_pdf(lines);
  return 0;
}
