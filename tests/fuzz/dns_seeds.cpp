// Writes the seeds of corpus/dns_answer: DNS answers built with ldns (the
// unit tests' dns_build.hpp), never typed by hand: A and AAAA answers, CNAME
// chains, NXDOMAIN, many records, a long name, and one cut short. Built
// and run by collect-seeds.sh.
#include <fstream>
#include <string>

#include "../unit/dns_build.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string dir = argv[1];
  auto put = [&](const std::string& name, const std::vector<uint8_t>& b) {
    std::ofstream(dir + "/" + name, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  };
  using dnstest::Type;
  put("a", dnstest::answer("www.example.", Type::a, {"www.example. 300 IN A 192.0.2.1"}));
  put("aaaa", dnstest::answer("www.example.", Type::aaaa, {"www.example. 60 IN AAAA 2001:db8::1"}));
  put("cname_chain",
      dnstest::answer("shop.example.", Type::a,
                      {"shop.example. 300 IN CNAME shop.cdn.example.",
                       "shop.cdn.example. 300 IN CNAME edge.cdn.example.",
                       "edge.cdn.example. 20 IN A 192.0.2.7", "edge.cdn.example. 20 IN A 192.0.2.8"}));
  put("nxdomain", dnstest::answer("gone.example.", Type::a, {}, LDNS_RCODE_NXDOMAIN));
  std::vector<std::string> many;
  for (int i = 1; i <= 40; ++i)
    many.push_back("many.example. 30 IN A 198.51.100." + std::to_string(i));
  put("many", dnstest::answer("many.example.", Type::a, many));
  std::string label(63, 'a');
  std::string longname = label + "." + label + "." + label + ".example.";
  put("long_name", dnstest::answer(longname, Type::a, {longname + " 5 IN A 192.0.2.9"}));
  auto cut = dnstest::answer("www.example.", Type::a, {"www.example. 300 IN A 192.0.2.1"});
  cut.resize(cut.size() - 3);
  put("cut", cut);
  return 0;
}
