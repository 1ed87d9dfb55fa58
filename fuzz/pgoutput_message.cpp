// Fuzzes the replication stream reader of the logical capture: a CopyData message from the
// walsender, the pgoutput message inside, and the content esink's trigger wrote. Asserts every
// view stays inside the input and a parsed content re-encodes to the same bytes.
#include <esink/source/detail/pgoutput.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {
bool within(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace po = esink::detail::pgoutput;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto copy = po::parse_copy(in);
  if (!within(copy.data, in)) std::abort();
  for (std::string_view b : {in, copy.data}) {
    const auto m = po::parse_logical(b);
    if (!within(m.prefix, b) || !within(m.content, b)) std::abort();
  }
  esink::change_type op;
  std::string_view table, row;
  if (po::parse_content(in, op, table, row)) {
    if (!within(table, in) || !within(row, in) || row.empty()) std::abort();
    const char letter = op == esink::change_type::insert ? 'i' : op == esink::change_type::update ? 'u' : 'd';
    const std::string again = letter + std::to_string(table.size()) + ":" + std::string(table) + std::string(row);
    // Leading zeros in the length are the one spelling that does not come back byte for byte.
    if (again != in && in.substr(1, 1) != "0") std::abort();
  }
  std::uint64_t lsn = 0;
  if (po::parse_lsn(in, lsn)) {
    std::uint64_t back = 0;
    if (!po::parse_lsn(po::lsn_text(lsn), back) || back != lsn) std::abort();
  }
  return 0;
}
