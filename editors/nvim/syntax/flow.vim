" Vim syntax file
" Language:    flow (approval workflows checked by flowc)
" Filenames:   *.flow
" A minimal highlighting for when the language server's semantic tokens are not there.
" Copy to ~/.config/nvim/syntax/flow.vim, or add editors/nvim to 'runtimepath'.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
" Identifiers are Unicode (报销金额): every character above 255 is a keyword character.
syn iskeyword @,48-57,_,192-255

" Operators first: the comment rules below win over `/` at the same column.
syn match flowOperator /->\|==\|!=\|<=\|>=\|[<>=+\-*/%?]/
syn match flowDelimiter /::\|[,;:.]/

" Reserved words (docs/language.md §2.4).
syn keyword flowKeyword use form detail workflow node operators batch before after validate fn const test
syn keyword flowConditional if then else when where
syn keyword flowStatement exit return
syn keyword flowOperatorWord and or not in
syn keyword flowBoolean true false
syn keyword flowNull null
syn keyword flowBuiltinValue creator everyone

" Names being declared: form X, workflow X, detail X, node X, fn X, const X, test X.
syn match flowDeclName /\%(\<\%(form\|workflow\|detail\|node\|fn\|const\|test\)\s\+\)\@<=\k\+/
" A field (or parameter) name before `:` at the start of a line.
syn match flowFieldName /^\s*\zs\k\+\ze\s*:[^:]/
" exit NAME -> TARGET, return NAME -> TARGET
syn match flowExitName /\%(\<\%(exit\|return\)\s\+\)\@<=\k\+/
syn match flowTarget /\%(->\s*\)\@<=\k\+/

" Contextual words: field types and node kinds after `:`, and the words of settings.
syn match flowType /\%(:\s*\)\@<=\%(text\|textarea\|int\|float\|money_upper\|money\|check\|select\|attachment\|link\|note\|employees\|employee\|departments\|department\|subcompany\|role\|document\|project\|asset\|customer\|meeting_room\|datetime\|date\|time\|number\|decimal\|bool\|any\|column\)\>/
syn match flowType /\%(->\s*\)\@<=\%(text\|int\|float\|money_upper\|money\|check\|employees\|employee\|departments\|department\|subcompany\|role\|datetime\|date\|time\|number\|decimal\|bool\|any\)\>/
syn match flowNodeKind /\%(:\s*\)\@<=\%(create\|approve\|realize\|merge\|archive\)\>/
syn match flowSetting /^\s*\zs\%(category\|title\|remind\|portal\|inactive\|editable\|required\|hidden\)\>\%(\s*[:=.(]\)\@!/
syn match flowSetting /\%(\<operators\s\+\)\@<=\%(any\|all\|sequential\)\>/
syn match flowSetting /^\s*\zs\%(fork\ze\s*{\|wait\ze\s\+\k\)/
syn match flowSetting /\<script\ze\s*"/
syn match flowSetting /\<default\ze\s*\%($\|[,;}]\|\/\/\|folder\>\)/
syn match flowSetting /\<folder\ze\s*"/
syn match flowFlag /\%("\s*\|:\s*\w\+\s\+\)\@<=\%(html\|multiple\)\>/

" Built-in functions (stdlib/prelude.flow), when called.
syn match flowBuiltinFunc /\<\%(sum\|count\|avg\|min\|max\|round\|floor\|ceil\|abs\|rmb_upper\|thousands\|len\|contains\|is_empty\|today\|now\|days_between\|date\|add_days\|year\|month\|employee\|role\|department\|subcompany\)\ze\s*(/

" Numbers: 42, 12.50 (a digit glued to a Chinese name is part of the name).
syn match flowNumber /\<\d\+\%(\.\d\+\)\=\>/

" Strings: escapes \n \t \" \\ \u{…}; any other backslash is an error. A string ends at its
" closing quote or the end of the line.
syn match flowEscapeError /\\./ contained
syn match flowEscapeError /\\$/ contained
syn match flowEscape /\\\%([nt"\\]\|u{\x\{1,6}}\)/ contained
syn region flowString start=/"/ skip=/\\\\\|\\"/ end=/"/ end=/$/ contains=flowEscape,flowEscapeError
" A title string interpolates {expr}; {{ and }} are literal braces.
syn match flowBraceEscape /{{\|}}/ contained
syn region flowInterpolation matchgroup=flowInterpolationDelim start=/{\ze[^{]/ end=/}/ end=/\ze"/ contained
      \ contains=flowKeyword,flowOperatorWord,flowBoolean,flowNull,flowBuiltinValue,flowBuiltinFunc,flowNumber,flowOperator,flowDelimiter
syn region flowTitleString start=/\%(^\s*title\s*\)\@<="/ skip=/\\\\\|\\"/ end=/"/ end=/$/
      \ contains=flowEscape,flowEscapeError,flowBraceEscape,flowInterpolation

" Comments last, so that they win.
syn keyword flowTodo TODO FIXME XXX NOTE contained
syn match flowComment +//.*$+ contains=flowTodo,@Spell
syn match flowDocComment +///.*$+ contains=flowTodo,@Spell
syn region flowBlockComment start=+/\*+ end=+\*/+ contains=flowTodo,@Spell

hi def link flowKeyword             Keyword
hi def link flowConditional         Conditional
hi def link flowStatement           Statement
hi def link flowOperatorWord        Operator
hi def link flowOperator            Operator
hi def link flowDelimiter           Delimiter
hi def link flowBoolean             Boolean
hi def link flowNull                Constant
hi def link flowBuiltinValue        Constant
hi def link flowDeclName            Function
hi def link flowFieldName           Identifier
hi def link flowExitName            Label
hi def link flowTarget              Identifier
hi def link flowType                Type
hi def link flowNodeKind            StorageClass
hi def link flowSetting             Keyword
hi def link flowFlag                StorageClass
hi def link flowBuiltinFunc         Function
hi def link flowNumber              Number
hi def link flowString              String
hi def link flowTitleString         String
hi def link flowEscape              SpecialChar
hi def link flowBraceEscape         SpecialChar
hi def link flowEscapeError         Error
hi def link flowInterpolationDelim  Delimiter
hi def link flowTodo                Todo
hi def link flowComment             Comment
hi def link flowDocComment          SpecialComment
hi def link flowBlockComment        Comment

let b:current_syntax = 'flow'

let &cpo = s:cpo_save
unlet s:cpo_save
