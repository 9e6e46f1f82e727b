package transport

// tally computes the counts that depend on fragments once the whole
// document is scanned. Every sum saturates just past its limit.
type tally struct {
	s      *scanner
	limits docLimits
}

// expanded returns the fields and aliases of the operations and of the
// fragments, each with its fragments expanded. Each set is summed once
// (memoized), so a chain of fragments each spreading the next twice costs
// a few additions, not 2^n. It also returns the name of a fragment that
// spreads itself, directly or through others, if one does: such a
// document is invalid, and walking it as validation does (along every
// path that does not repeat a fragment) is factorial in its fragments.
func (t tally) expanded() (fields, aliases int, cycle string) {
	capF, capA := capOf(t.limits.Fields), capOf(t.limits.Aliases)
	type sums struct{ f, a int }
	memo := make([]*sums, len(t.s.sets))
	visiting := make([]bool, len(t.s.sets))
	var set func(i int) sums
	set = func(i int) sums {
		if memo[i] != nil {
			return *memo[i]
		}
		visiting[i] = true
		var out sums
		add := func(v sums) { out.f, out.a = satAdd(out.f, v.f, capF), satAdd(out.a, v.a, capA) }
		for _, fi := range t.s.sets[i].fields {
			fl := t.s.fields[fi]
			add(sums{1, b2i(fl.alias)})
			if fl.sub >= 0 {
				add(set(fl.sub))
			}
		}
		for _, name := range t.s.sets[i].spreads {
			for _, root := range t.s.frags[name] {
				if visiting[root] {
					if cycle == "" {
						cycle = name
					}
					continue
				}
				add(set(root))
			}
		}
		visiting[i] = false
		memo[i] = &out
		return out
	}
	var total sums
	for _, root := range t.roots() {
		v := set(root)
		total.f, total.a = satAdd(total.f, v.f, capF), satAdd(total.a, v.a, capA)
	}
	return total.f, total.a, cycle
}

// roots are the selection sets validation starts from: the operations',
// then the fragments'.
func (t tally) roots() []int {
	roots := append([]int(nil), t.s.ops...)
	for _, name := range t.s.names {
		roots = append(roots, t.s.frags[name]...)
	}
	return roots
}

// pairs counts same-named field pairs the way OverlappingFieldsCanBeMerged
// meets them: at each place in the response, the fields written there, in
// its inline fragments and in the fragments spread there (each fragment
// once) are grouped by response name; k fields of one name make k(k-1)/2
// pairs, and their selection sets merge into the place below. The
// fragments must not form a cycle; the work is then at most the expanded
// fields.
func (t tally) pairs() int {
	limit := capOf(t.limits.FieldPairs)
	total := 0
	// Within the fields limit, the fields visited are at most the expanded
	// fields; without one, this bounds the walk all the same.
	budget := capOf(t.limits.Fields)
	var place func(sets []int) bool
	place = func(sets []int) bool {
		type group struct {
			n    int
			subs []int
		}
		groups := map[string]*group{}
		var order []string
		seen := map[string]bool{}
		for i := 0; i < len(sets); i++ { // sets grows as fragments join it
			for _, fi := range t.s.sets[sets[i]].fields {
				if budget--; budget < 0 {
					return false
				}
				fl := t.s.fields[fi]
				g := groups[fl.name]
				if g == nil {
					g = &group{}
					groups[fl.name] = g
					order = append(order, fl.name)
				}
				g.n++
				if fl.sub >= 0 {
					g.subs = append(g.subs, fl.sub)
				}
			}
			for _, name := range t.s.sets[sets[i]].spreads {
				if !seen[name] {
					seen[name] = true
					sets = append(sets, t.s.frags[name]...)
				}
			}
		}
		for _, name := range order {
			g := groups[name]
			if total = satAdd(total, g.n*(g.n-1)/2, limit); total >= limit {
				return false
			}
			if len(g.subs) > 0 && !place(g.subs) {
				return false
			}
		}
		return true
	}
	for _, root := range t.roots() {
		if !place([]int{root}) {
			break
		}
	}
	return total
}

// capOf is where a sum stops growing: past the limit nothing changes.
func capOf(limit int) int {
	if limit <= 0 || limit > 1<<40 {
		return 1 << 40
	}
	return limit + 1
}

func satAdd(a, b, limit int) int {
	if a+b > limit {
		return limit
	}
	return a + b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
