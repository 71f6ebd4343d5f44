// Every entry of a BPF hash map, in batches of a few system calls (one per
// entry would cost a refresh ~1 us per entry), into buffers kept from one
// read to the next.
#pragma once
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdint>
#include <vector>

namespace netacct {

template <typename K, typename V>
struct MapDump {
  std::vector<K> keys;
  std::vector<V> values;
  // How many entries were read (at most `max`: the map's size) into keys
  // and values.
  uint32_t read(int fd, uint32_t max) {
    keys.resize(max);
    values.resize(max);
    uint32_t total = 0, token = 0;
    bool first = true;
    while (total < max) {
      uint32_t count = max - total;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, keys.data() + total,
                                     values.data() + total, &count, &opts);
      total += count;
      first = false;
      if (err) break;  // ENOENT: the end; anything else: what was read so far
    }
    return total;
  }
};

}  // namespace netacct
