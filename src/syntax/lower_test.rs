//! Lowering of `test` items (grammar `test_item`) to [`TestItem`]: kept
//! apart from `lower.rs` because tests are a language of their own inside
//! the file (a request, actions and expectations, docs/testing.md).

use pest::iterators::Pair;

use super::ast::*;
use super::lower::Lowerer;
use super::Rule;

impl Lowerer<'_> {
    pub(super) fn test_item(&self, pair: Pair<Rule>) -> TestItem {
        let span = self.span(&pair);
        let mut name = Ident { name: String::new(), span };
        let mut label = None;
        let mut members = Vec::new();
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = self.ident(inner),
                Rule::string => label = Some(self.string(inner)),
                Rule::test_workflow => {
                    if let Some(ident) = inner.into_inner().find(|pair| pair.as_rule() == Rule::ident) {
                        members.push(TestMember::Workflow(self.ident(ident)));
                    }
                }
                Rule::test_org | Rule::test_now | Rule::test_creator => {
                    let rule = inner.as_rule();
                    if let Some(text) = inner.into_inner().find(|pair| pair.as_rule() == Rule::string) {
                        let text = self.string(text);
                        members.push(match rule {
                            Rule::test_org => TestMember::Org(text),
                            Rule::test_now => TestMember::Now(text),
                            _ => TestMember::Creator(text),
                        });
                    }
                }
                Rule::test_form => {
                    if let Some(object) = inner.into_inner().find(|pair| pair.as_rule() == Rule::t_object) {
                        members.push(TestMember::Form(self.test_value(object)));
                    }
                }
                Rule::test_action => members.push(TestMember::Action(Box::new(self.test_action(inner)))),
                Rule::test_until => {
                    if let Some(text) = inner.into_inner().find(|pair| pair.as_rule() == Rule::string) {
                        members.push(TestMember::Until(self.string(text)));
                    }
                }
                Rule::test_expect => {
                    let expectations = inner
                        .into_inner()
                        .filter(|pair| pair.as_rule() != Rule::t_expect_kw && pair.as_rule() != Rule::COMMA)
                        .filter_map(|pair| self.expectation(pair))
                        .collect();
                    members.push(TestMember::Expect(expectations));
                }
                _ => {}
            }
        }
        TestItem { name, label, members, span }
    }

    fn test_action(&self, pair: Pair<Rule>) -> TestAction {
        let span = self.span(&pair);
        let mut action = TestAction {
            kind: Ident { name: String::new(), span },
            by: StrLit { value: String::new(), span },
            opinion: None,
            set: None,
            to: None,
            at: None,
            node: None,
            request: None,
            refused: None,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::t_action_kw => action.kind = self.ident(inner),
                Rule::string => action.by = self.string(inner),
                Rule::t_opinion => action.opinion = inner.into_inner().last().map(|text| self.string(text)),
                Rule::t_set => action.set = inner.into_inner().last().map(|value| self.test_value(value)),
                Rule::t_to => action.to = inner.into_inner().last().map(|value| self.test_value(value)),
                Rule::t_at => action.at = inner.into_inner().last().map(|text| self.string(text)),
                Rule::t_request => action.request = inner.into_inner().last().map(|text| self.string(text)),
                Rule::t_node => action.node = inner.into_inner().last().map(|name| self.ident(name)),
                Rule::t_refused => action.refused = inner.into_inner().last().map(|code| self.ident(code)),
                _ => {}
            }
        }
        action
    }

    fn expectation(&self, pair: Pair<Rule>) -> Option<Expectation> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut parts = pair.into_inner().filter(|part| {
            !matches!(
                part.as_rule(),
                Rule::KW_NODE | Rule::KW_EXIT | Rule::KW_BATCH | Rule::t_pending_kw | Rule::t_status_kw | Rule::op_eq
            )
        });
        let first = parts.next()?;
        let kind = match rule {
            Rule::t_expect_node => ExpectKind::Node(self.ident(first)),
            Rule::t_expect_exit => ExpectKind::Exit(self.ident(first)),
            Rule::t_expect_status => ExpectKind::Status(self.ident(first)),
            Rule::t_expect_pending => ExpectKind::Pending(self.test_value(first)),
            Rule::t_expect_batch => ExpectKind::Batch(first.as_str().to_owned(), self.span(&first)),
            Rule::t_expect_field => {
                let field = self.ident(first);
                ExpectKind::Field(field, self.test_value(parts.next()?))
            }
            _ => return None,
        };
        Some(Expectation { kind, span })
    }

    /// A `t_value`, `t_list` or `t_object` pair.
    fn test_value(&self, pair: Pair<Rule>) -> TestValue {
        let span = self.span(&pair);
        let pair = if pair.as_rule() == Rule::t_value {
            match pair.into_inner().next() {
                Some(inner) => inner,
                None => return TestValue { kind: TestValueKind::Null, span },
            }
        } else {
            pair
        };
        let kind = match pair.as_rule() {
            Rule::string => TestValueKind::Str(self.string(pair).value),
            Rule::t_number => TestValueKind::Number(pair.as_str().to_owned()),
            Rule::lit_true => TestValueKind::Bool(true),
            Rule::lit_false => TestValueKind::Bool(false),
            Rule::t_list => TestValueKind::List(
                pair.into_inner()
                    .filter(|pair| pair.as_rule() == Rule::t_value)
                    .map(|value| self.test_value(value))
                    .collect(),
            ),
            Rule::t_object => TestValueKind::Object(
                pair.into_inner()
                    .filter(|pair| pair.as_rule() == Rule::t_entry)
                    .filter_map(|entry| {
                        let mut parts = entry.into_inner();
                        let key = parts.next()?;
                        let key = if key.as_rule() == Rule::string {
                            let text = self.string(key);
                            Ident { name: text.value, span: text.span }
                        } else {
                            self.ident(key)
                        };
                        let value = parts.find(|pair| pair.as_rule() == Rule::t_value)?;
                        Some((key, self.test_value(value)))
                    })
                    .collect(),
            ),
            _ => TestValueKind::Null,
        };
        TestValue { kind, span }
    }
}
